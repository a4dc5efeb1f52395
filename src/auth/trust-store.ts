/**
 * The registered CAs as the CONNECT path needs them: by id, with Node X509Certificate objects
 * ready for signature checks and the serials on each CA's CRL in a Set (an O(1) lookup on the
 * hot path). Rebuilt from the RegistryStore whenever a CA changes; read synchronously.
 */
import { X509Certificate } from 'node:crypto'
import type { CaRecord } from '../domain/ca.js'
import { recheckSession } from '../domain/connect/decide.js'
import type { RejectReason } from '../domain/connect/reasons.js'
import { findIssuerChain, isIssuedBy, nameKey, TrustIndex } from '../pki/chain.js'
import { formatSerial } from '../pki/inspect.js'
import { caConstraintsOf, type CaConstraints } from '../pki/path-constraints.js'
import type { RegistryStore } from '../store/ports.js'

/**
 * What an admitted session is rechecked by when its CA changes: its certificate as registered.
 * A CertificateRecord is one, so a session keeps its record rather than a copy of these fields.
 */
export interface SessionIdentity {
  caId: string
  serialNumber: string
  issuer: string
  /** CertificateRecord.viaSerial: the intermediate the certificate chains through, if any. */
  viaSerial?: string | undefined
  /** CertificateRecord.intermediates: its path, leaf side first, if any. */
  intermediates?: ReadonlyArray<{ fingerprint: string, serialNumber: string }> | undefined
}

export interface TrustedCa {
  record: CaRecord
  certificate: X509Certificate
  /**
   * Serials on the CRL in force for this CA (uppercase hex, no leading zero bytes); empty when
   * none. A CA renewed with its own key and name (a rollover) is the same issuer: the newest CRL
   * imported for any of its copies is in force for all of them.
   */
  revoked: ReadonlySet<string>
  /**
   * The other registered CAs that issued this one (an intermediate registered as a CA of its own,
   * under a registered root; two when the root was renewed beside itself): their status, hosts and
   * CRL govern the devices registered under this one too. Empty for a root.
   */
  issuers: readonly string[]
  /** The CA subject folded as names compare (pki/chain.ts nameKey). */
  subjectKey: string
  /** What the CA imposes on paths through it (pathLenConstraint, unenforced extensions). */
  constraints: CaConstraints
  /** The CA's validity window, parsed once: a certificate is valid only while its CA is. */
  notBeforeMs: number
  notAfterMs: number
}

/** A CA's own CRL: when it was imported, its thisUpdate, its serials. */
interface OwnCrl {
  importedAt: string | null
  thisUpdate: string | null
  serials: ReadonlySet<string>
}

const NO_CRL: OwnCrl = { importedAt: null, thisUpdate: null, serials: new Set() }

export class TrustStore {
  private cas = new Map<string, TrustedCa>()
  /** Each CA's own CRL, as imported for it (before a rollover twin's newer one is applied). */
  private crls = new Map<string, OwnCrl>()
  private index = new TrustIndex(new Map())
  private readonly listeners = new Set<() => void>()
  private refreshing: Promise<void> | undefined
  private again = false

  constructor (private readonly store: RegistryStore) {}

  /** Reloads every CA from the store; concurrent calls coalesce into at most one more reload. */
  async refresh (): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true
      return await this.refreshing
    }
    this.refreshing = (async () => {
      do {
        this.again = false
        const records = await this.store.listCas()
        const cas = new Map<string, TrustedCa>()
        const crls = new Map<string, OwnCrl>()
        for (const record of records) {
          const previous = this.cas.get(record.id)
          const certificate = previous?.certificate ?? new X509Certificate(record.certificatePem)
          const crl = await this.crlOf(record)
          crls.set(record.id, crl)
          cas.set(record.id, {
            record,
            certificate,
            revoked: crl.serials,
            issuers: [],
            subjectKey: previous?.subjectKey ?? nameKey(record.subject),
            constraints: previous?.constraints ?? caConstraintsOf(certificate.raw),
            notBeforeMs: Date.parse(record.notBefore),
            notAfterMs: Date.parse(record.notAfter)
          })
        }
        linkCopiesAndIssuers(cas, crls)
        this.crls = crls
        this.cas = cas
        // an active CA answers for a certificate that an inactive one (its renewed twin) also verifies
        this.index = new TrustIndex(new Map([...cas].map(([id, ca]) => [id, ca.certificate])), (id) => cas.get(id)?.record.status === 'active')
      } while (this.again)
    })().finally(() => { this.refreshing = undefined })
    await this.refreshing
    for (const listener of this.listeners) listener()
  }

  /**
   * Whether the CA's CRL revokes this certificate: its own serial (when `ca` issued it directly;
   * serials are unique only per issuer), or the serial of the intermediate it chains through
   * (recorded at registration), so every device under a revoked intermediate is revoked with it
   * whether or not it sends the intermediate again.
   */
  static onCrl (ca: TrustedCa, certificate: { serialNumber: string, issuer: string, viaSerial?: string | undefined }): boolean {
    if (ca.revoked.size === 0) return false
    if (certificate.viaSerial !== undefined && ca.revoked.has(certificate.viaSerial)) return true
    // the issuer name is folded as the chain check folds it, so a spelling that chains also matches
    return ca.revoked.has(certificate.serialNumber) && (certificate.issuer === ca.record.subject || nameKey(certificate.issuer) === ca.subjectKey)
  }

  /**
   * Why a session admitted under its CA may not stay, as the CA stands now (`servername`: the
   * normalized TLS server name it connected with, undefined when none): `ca_deleted`,
   * `ca_inactive`, `ca_host_mismatch` (re-bound to other hosts) or `revoked` (on a CRL imported
   * since); undefined when it may stay.
   */
  sessionVerdict (identity: SessionIdentity, servername: string | undefined): RejectReason | 'ca_deleted' | undefined {
    const ca = this.cas.get(identity.caId)
    if (ca === undefined) return 'ca_deleted'
    return recheckSession(ca.record, servername, TrustStore.onCrl(ca, identity)) ?? this.chainVerdict(identity, servername) ??
      this.issuerVerdict(ca, servername)
  }

  /**
   * Why the registered CAs that issued `ca` refuse the devices under it now (an intermediate
   * registered as a CA of its own): each issuer is asked as chainVerdict asks an intermediate on a
   * recorded path (status, hosts, its CRL listing `ca`), and its own issuers in turn. Undefined
   * when `ca` has no registered issuer, or when one of them (a root and its renewed copy) admits.
   */
  issuerVerdict (ca: TrustedCa, servername: string | undefined, seen?: ReadonlySet<string>): RejectReason | undefined {
    // on every admitted CONNECT: nothing is allocated for a CA without a registered issuer, nor
    // for one whose issuers have none above them (an intermediate under a registered root, the
    // usual case); the set that stops a cycle is made only to go a level further up
    if (ca.issuers.length === 0) return undefined
    let refused: RejectReason | undefined
    for (const id of ca.issuers) {
      const issuer = this.cas.get(id)
      // a cycle of cross-signed CAs: the way back admits nothing new
      if (issuer === undefined || id === ca.record.id || seen?.has(id) === true) continue
      const verdict = recheckSession(issuer.record, servername, issuer.revoked.has(ca.record.serialNumber)) ??
        (issuer.issuers.length === 0 ? undefined : this.issuerVerdict(issuer, servername, new Set(seen).add(ca.record.id)))
      if (verdict === undefined) return undefined
      refused ??= verdict
    }
    return refused
  }

  /**
   * Why an intermediate on the certificate's recorded path refuses it now, when that intermediate
   * is registered as a CA of its own: deactivated (`ca_inactive`), bound to other hosts, or its
   * CRL lists the certificate below it on the path (`revoked`). Undefined when none does, and at
   * once for a certificate its CA issued directly.
   */
  chainVerdict (certificate: Pick<SessionIdentity, 'serialNumber' | 'intermediates'>, servername: string | undefined): RejectReason | undefined {
    const path = certificate.intermediates
    if (path === undefined) return undefined
    for (let i = 0; i < path.length; i++) {
      const ca = this.cas.get(path[i]!.fingerprint)
      if (ca === undefined) continue
      // the certificate this intermediate issued: the leaf, or the intermediate below it
      const below = i === 0 ? certificate.serialNumber : path[i - 1]!.serialNumber
      const verdict = recheckSession(ca.record, servername, ca.revoked.has(below))
      if (verdict !== undefined) return verdict
    }
    return undefined
  }

  /** The CA's own CRL, reloaded only when a newer CRL was imported since the previous refresh. */
  private async crlOf (record: CaRecord): Promise<OwnCrl> {
    const importedAt = record.crl?.importedAt ?? null
    if (importedAt === null) return NO_CRL
    const previous = this.crls.get(record.id)
    if (previous !== undefined && previous.importedAt === importedAt) return previous
    const crl = await this.store.getCrl(record.id)
    return crl === undefined ? NO_CRL : { importedAt, thisUpdate: record.crl?.thisUpdate ?? null, serials: new Set(crl.serials) }
  }

  /** Called after every refresh (the listener swaps the TLS context). */
  onChange (listener: () => void): void {
    this.listeners.add(listener)
  }

  get (id: string): TrustedCa | undefined {
    return this.cas.get(id)
  }

  /** Every registered CA, as of the last refresh. */
  all (): IterableIterator<TrustedCa> {
    return this.cas.values()
  }

  /** PEMs of the active CAs: the TLS server's CertificateRequest hints. */
  activePems (): string[] {
    return [...this.cas.values()].filter((ca) => ca.record.status === 'active').map((ca) => ca.record.certificatePem)
  }

  /**
   * The registered CA (active or not) that `leaf` chains to, through the intermediates the
   * client presented, with the serial of the intermediate directly under it (none when the CA
   * issued the leaf); undefined when there is no such chain.
   */
  findCa (leaf: X509Certificate, presented: X509Certificate[]):
    { ca: TrustedCa, viaSerial: string | undefined, intermediates: X509Certificate[] } | undefined {
    const chain = findIssuerChain(leaf, presented, this.index)
    const ca = chain === undefined ? undefined : this.cas.get(chain.caId)
    if (chain === undefined || ca === undefined) return undefined
    const top = chain.intermediates.at(-1)
    return { ca, viaSerial: top === undefined ? undefined : formatSerial(top.serialNumber), intermediates: chain.intermediates }
  }
}

/**
 * Completes a new CA set: the copies of one CA (a rollover: the same name and key, registered
 * twice) share the newest CRL imported for any of them, since serials are the issuer's and a CRL
 * is the issuer's word on all of them (RFC 5280 §5); and each CA that another registered CA
 * issued (not a copy of itself: a self-issued certificate has no issuer above it) lists that one.
 */
function linkCopiesAndIssuers (cas: Map<string, TrustedCa>, crls: ReadonlyMap<string, OwnCrl>): void {
  // keyed by the names as Node prints them, as the chain walk compares a child's issuer with them
  const subjectKeys = new Map<TrustedCa, string>()
  const bySubject = new Map<string, TrustedCa[]>()
  for (const ca of cas.values()) {
    const key = nameKey(ca.certificate.subject)
    subjectKeys.set(ca, key)
    const list = bySubject.get(key)
    if (list === undefined) bySubject.set(key, [ca])
    else list.push(ca)
  }
  for (const [ca, subjectKey] of subjectKeys) {
    const named = bySubject.get(subjectKey) ?? []
    if (named.length > 1) {
      let newest = crls.get(ca.record.id) ?? NO_CRL
      for (const other of named) {
        if (other === ca || !ca.certificate.publicKey.equals(other.certificate.publicKey)) continue
        const crl = crls.get(other.record.id) ?? NO_CRL
        if (crl.thisUpdate !== null && (newest.thisUpdate === null || Date.parse(crl.thisUpdate) > Date.parse(newest.thisUpdate))) newest = crl
      }
      ca.revoked = newest.serials
    }
    const issuerKey = nameKey(ca.certificate.issuer)
    if (issuerKey === subjectKey) continue
    ca.issuers = (bySubject.get(issuerKey) ?? []).filter((issuer) => isIssuedBy(ca.certificate, issuer.certificate)).map((issuer) => issuer.record.id)
  }
}
