/**
 * Device authentication at CONNECT (PRODUCT §1): gathers the facts for the pure decision
 * (registry lookup by SHA-256 fingerprint, chain to a registered CA, deny list), performs the
 * automatic registration the decision asks for (rate limited, deduplicated) and resolves the
 * client ID. Knows nothing of aedes or sockets: aedes-hooks.ts feeds it.
 */
import * as nodeCrypto from 'node:crypto'
import type { X509Certificate } from 'node:crypto'
import { CertmqError, isCertmqError } from '../errors.js'
import type { CaRecord } from '../domain/ca.js'
import type { CertificateFacts, CertificateRecord } from '../domain/certificate.js'
import { decideCertificate, type ConnectFacts } from '../domain/connect/decide.js'
import type { RejectReason } from '../domain/connect/reasons.js'
import { checkRegistration } from '../domain/connect/checks/registration.js'
import { MQTT31_MAX_CLIENT_ID_LENGTH, resolveClientId } from '../domain/client-id.js'
import { inspectCertificate } from '../pki/inspect.js'
import { intermediatesWindow, presentedChain, recordedPath } from '../pki/chain.js'
import { pathProblem } from '../pki/path-constraints.js'
import { derToPem } from '../pki/pem.js'
import type { RegistrationLimiter, RegistryStore } from '../store/ports.js'
import { TrustStore, type TrustedCa } from './trust-store.js'
import type { RegistrationObserver } from './connect-observer.js'

export interface ConnectRequest {
  /**
   * The client's leaf certificate, from TLSSocket.getPeerX509Certificate(): the intermediates it
   * sent are linked from it (pki/chain.ts presentedChain), read only for unknown certificates.
   * Undefined when none was presented.
   */
  leaf: X509Certificate | undefined
  packetClientId: string
  clean: boolean
  /** The CONNECT's protocol level: 3 (MQTT 3.1) limits the client ID to 23 characters. */
  protocolVersion?: number | undefined
  /** The TLS server name (SNI) the device sent, normalized; undefined when none. */
  servername?: string | undefined
}

export interface CertificateIdentity {
  fingerprint: string
  serialNumber?: string
  caId?: string
}

export type ConnectOutcome =
  | { ok: true; clientId: string; record: CertificateRecord; autoRegistered: boolean }
  | { ok: false; reason: RejectReason; identity?: CertificateIdentity; cause?: unknown; detail?: string }

export interface ConnectServiceDeps {
  store: RegistryStore
  trust: TrustStore
  limiter: RegistrationLimiter
  strictClientId: boolean
  now: () => Date
  /** Told about automatic registrations and rate-limit refusals (metrics, events). */
  registrations?: RegistrationObserver
}

/**
 * crypto.hash, a one-shot digest (Node 20.12). Read through the namespace, since the engines allow
 * Node 20.10, where a named import of it would fail to load the module; @types/node declares it
 * on every Node 20, so the compiler would not catch that.
 */
const oneShotHash = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined

/** The registry id from OpenSSL's colon-separated upper-case SHA-256 fingerprint: Node 20 before 20.12. */
export function fingerprintFromColonHex (leaf: X509Certificate): string {
  return leaf.fingerprint256.replaceAll(':', '').toLowerCase()
}

export class ConnectService {
  /** First connects of the same new certificate share one registration attempt (per node). */
  private readonly registering = new Map<string, Promise<CertificateRecord | RejectReason>>()

  constructor (private readonly deps: ConnectServiceDeps) {}

  /**
   * The certificate id (SHA-256 of the DER, lowercase hex) as the registry keys it. crypto.hash
   * goes straight to lowercase hex, about half the cost of `fingerprint256` reformatted in
   * JavaScript (3–4 µs against 8 in a loop on the bench VM).
   */
  static fingerprintOf (leaf: X509Certificate): string {
    return oneShotHash === undefined ? fingerprintFromColonHex(leaf) : oneShotHash('sha256', leaf.raw, 'hex')
  }

  /**
   * The decision for one CONNECT. A registered certificate is decided at once when the store can
   * read without waiting (RegistryStore.getCertificateNow): the CONNACK then leaves in the same
   * turn of the event loop that read the CONNECT, as it does without any certificate logic.
   * Unknown certificates (chain walk, deny list, automatic registration) and stores that need a
   * round trip answer with a promise.
   */
  authenticate (request: ConnectRequest, fingerprint?: string): ConnectOutcome | Promise<ConnectOutcome> {
    const { leaf } = request
    if (leaf === undefined) return { ok: false, reason: 'no_certificate' }
    const id = fingerprint ?? ConnectService.fingerprintOf(leaf)
    const { store } = this.deps
    if (store.getCertificateNow !== undefined) {
      let record: CertificateRecord | undefined
      try {
        record = store.getCertificateNow(id)
      } catch (err) {
        return unavailable(id, err)
      }
      if (record !== undefined) return this.decideKnown(request, record)
      return this.decideLater(request, leaf, id, true)
    }
    return this.decideLater(request, leaf, id, false)
  }

  /** `unregistered`: the synchronous read already found no record, so it is not read again. */
  private async decideLater (request: ConnectRequest, leaf: X509Certificate, id: string, unregistered: boolean): Promise<ConnectOutcome> {
    try {
      const record = unregistered ? undefined : await this.deps.store.getCertificate(id)
      if (record !== undefined) return this.decideKnown(request, record)
      return await this.decideUnknown(request, leaf, id)
    } catch (err) {
      return unavailable(id, err)
    }
  }

  /** A certificate the registry does not hold: chain to a registered CA, deny list, automatic registration. */
  private async decideUnknown (request: ConnectRequest, leaf: X509Certificate, id: string): Promise<ConnectOutcome> {
    const found = this.deps.trust.findCa(leaf, presentedChain(leaf))
    const trusted = found?.ca
    const ca = trusted?.record
    const intermediates = found?.intermediates ?? []
    // RFC 5280 path validation: every certificate of the chain, not only the leaf, must be inside
    // its validity window. A registered certificate is decided by its record (decideKnown): the
    // leaf's own dates and those of the intermediates it was registered through, its status and
    // its CA as they are now
    const window = intermediatesWindow(intermediates)
    const facts = {
      ...inspectCertificate(leaf.raw),
      ...(found?.viaSerial === undefined ? {} : { viaSerial: found.viaSerial }),
      ...window,
      ...recordedPath(intermediates)
    }
    let verdict = decideCertificate({
      nowMs: this.deps.now().getTime(),
      ca,
      servername: request.servername,
      usage: facts,
      ...validityOf(facts, trusted),
      denied: (trusted !== undefined && TrustStore.onCrl(trusted, facts)) || await this.deps.store.isDenied(id),
      record: undefined
    })
    // the registered CAs above its CA (an intermediate registered as a CA of its own) refuse it
    // before anything is registered, as they refuse the devices registered under it before
    const refusedAbove = verdict.kind === 'reject' || trusted === undefined ? undefined : this.deps.trust.issuerVerdict(trusted, request.servername)
    if (refusedAbove !== undefined) return this.reject(refusedAbove, id, leaf.serialNumber, ca)
    if (verdict.kind === 'register' && ca !== undefined && trusted !== undefined) {
      // what the chain walk leaves out of path validation (pathLenConstraint, extensions certmq
      // does not enforce, the intermediates' purpose), checked before anything is registered:
      // a refusal for another reason does not pay for it (it parses every certificate again)
      const problem = pathProblem(leaf.raw, intermediates.map((c) => c.raw), trusted.constraints)
      if (problem !== undefined) return { ...this.reject('invalid_chain', id, leaf.serialNumber, ca), detail: problem }
      const registered = await this.register(leaf, facts, ca, verdict.status)
      if (typeof registered === 'string') return this.reject(registered, id, leaf.serialNumber, ca)
      // the certificate's own checks passed above; only the record's status is new
      verdict = checkRegistration(registered, ca)
      if (verdict.kind === 'admit') return this.admit(request, verdict.record, true)
    }
    if (verdict.kind === 'admit') return this.admit(request, verdict.record, false)
    return this.reject(verdict.kind === 'reject' ? verdict.reason : 'unregistered', id, leaf.serialNumber, ca)
  }

  /**
   * A registered certificate: its chain was verified when it was registered, and the TLS
   * handshake proved the device holds its key; the registered CA and the record decide, with the
   * validity of the intermediates recorded at registration.
   */
  private decideKnown (request: ConnectRequest, record: CertificateRecord): ConnectOutcome | Promise<ConnectOutcome> {
    const trusted = this.deps.trust.get(record.caId)
    const verdict = decideCertificate(factsOfRecord(record, trusted, this.deps.now().getTime(), request))
    // the intermediates of its path and the CAs above its CA that are registered as CAs of their
    // own have their say once it is admitted, in SessionRegistry.admit (TrustStore.sessionVerdict)
    if (verdict.kind === 'admit') return this.admit(request, verdict.record, false)
    const reason = verdict.kind === 'reject' ? verdict.reason : 'unregistered'
    if ((reason === 'expired' || reason === 'not_yet_valid') && trusted !== undefined && request.leaf !== undefined) {
      const renewed = this.renewedPath(request, request.leaf, record, trusted)
      if (renewed !== undefined) return renewed
    }
    return this.reject(reason, record.id, record.serialNumber, trusted?.record)
  }

  /**
   * A registered certificate refused as expired (or not yet valid) because of its CA or the
   * intermediates it was registered through, while it is valid itself: its issuers may have been
   * renewed. A CA renewed with its own key and name (a rollover, registered beside the old one)
   * or an intermediate renewed the same way verifies it too. The path the device presents now is
   * walked again (the trust index prefers an active CA, the one valid longest); when it leads to
   * its CA or that CA's renewed twin, valid now and within the path rules, the certificate's
   * status decides as usual. Rare: it runs only for such a refusal.
   */
  private renewedPath (request: ConnectRequest, leaf: X509Certificate, record: CertificateRecord, registeredCa: TrustedCa): ConnectOutcome | Promise<ConnectOutcome> | undefined {
    const nowMs = this.deps.now().getTime()
    if (nowMs < Date.parse(record.notBefore) || nowMs > Date.parse(record.notAfter)) return undefined
    const found = this.deps.trust.findCa(leaf, presentedChain(leaf))
    if (found === undefined || (found.ca.record.id !== registeredCa.record.id && found.ca.subjectKey !== registeredCa.subjectKey)) return undefined
    const window = intermediatesWindow(found.intermediates)
    const facts = { ...record, chainNotBefore: window.chainNotBefore, chainNotAfter: window.chainNotAfter }
    const verdict = decideCertificate(factsOfRecord(facts, found.ca, nowMs, request))
    if (verdict.kind !== 'admit') return undefined
    if (pathProblem(leaf.raw, found.intermediates.map((c) => c.raw), found.ca.constraints) !== undefined) return undefined
    return this.admit(request, record, false)
  }

  /** A refusal of a registered certificate, naming it as the log line and the event log show it. */
  static refusal (reason: RejectReason, record: CertificateRecord): ConnectOutcome {
    return { ok: false, reason, identity: { fingerprint: record.id, serialNumber: record.serialNumber, caId: record.caId } }
  }

  /**
   * Resolves the client ID (PRODUCT §1.4) and refuses one that is another certificate's registered
   * Client ID, in every mode: aedes closes the older client of an ID and hands its session to the
   * newer, and registered Client IDs are unique so that their devices' sessions stay theirs. An ID
   * nobody registered (a CN used as the ID, say) is protected by strict mode only.
   */
  private admit (request: ConnectRequest, record: CertificateRecord, autoRegistered: boolean): ConnectOutcome | Promise<ConnectOutcome> {
    const resolved = resolveClientId({
      packetClientId: request.packetClientId,
      registeredClientId: record.clientId,
      commonName: record.commonName,
      clean: request.clean,
      strict: this.deps.strictClientId,
      maxLength: request.protocolVersion === 3 ? MQTT31_MAX_CLIENT_ID_LENGTH : undefined
    })
    if (!resolved.ok) {
      return ConnectService.refusal(resolved.reason, record)
    }
    const admitted: ConnectOutcome = { ok: true, clientId: resolved.clientId, record, autoRegistered }
    // its own registered Client ID, or one aedes assigns: nobody else's
    if (resolved.clientId === '' || resolved.clientId === record.clientId) return admitted
    const { store } = this.deps
    if (store.certificateIdOfClientIdNow === undefined) {
      return store.certificateIdOfClientId(resolved.clientId)
        .then((owner) => ownedBy(owner, admitted, record), (err: unknown) => unavailable(record.id, err))
    }
    // no closure on the usual, synchronous path: this runs on every CONNECT
    let owner: string | undefined
    try {
      owner = store.certificateIdOfClientIdNow(resolved.clientId)
    } catch (err) {
      return unavailable(record.id, err)
    }
    return ownedBy(owner, admitted, record)
  }

  private reject (reason: RejectReason, id: string, serialNumber: string, ca: CaRecord | undefined): Extract<ConnectOutcome, { ok: false }> {
    return { ok: false, reason, identity: { fingerprint: id, serialNumber, ...(ca === undefined ? {} : { caId: ca.id }) } }
  }

  /**
   * PRODUCT §1.3 automatic registration: one slot of the rate limit, then an atomic insert.
   * A concurrent first connect of the same certificate (here or on another node) finds the
   * record the other one inserted.
   */
  private async register (leaf: X509Certificate, facts: CertificateFacts & Pick<CertificateRecord, 'viaSerial' | 'chainNotBefore' | 'chainNotAfter' | 'intermediates'>, ca: CaRecord, status: CertificateRecord['status']):
    Promise<CertificateRecord | RejectReason> {
    const id = facts.fingerprint
    const inflight = this.registering.get(id)
    if (inflight !== undefined) return await inflight
    const attempt = (async (): Promise<CertificateRecord | RejectReason> => {
      if (!(await this.deps.limiter.tryAcquire())) {
        this.deps.registrations?.rateLimited()
        return 'rate_limited'
      }
      const now = this.deps.now().toISOString()
      try {
        const saved = await this.deps.store.insertCertificate({
          ...facts,
          id,
          status,
          source: 'auto',
          caId: ca.id,
          clientId: null,
          certificatePem: derToPem(leaf.raw, 'CERTIFICATE'),
          createdAt: now,
          updatedAt: now
        })
        this.deps.registrations?.autoRegistered(saved)
        return saved
      } catch (err) {
        if (isCertmqError(err, 'CERT_REVOKED')) return 'revoked'
        if (isCertmqError(err, 'CERT_DUPLICATE')) {
          const existing = await this.deps.store.getCertificate(id)
          if (existing !== undefined) return existing
        }
        if (isCertmqError(err, 'CA_NOT_FOUND')) return 'unknown_ca'
        throw err instanceof CertmqError ? err : new CertmqError('STORE_UNAVAILABLE', 'automatic registration failed', { id }, { cause: err })
      }
    })()
    this.registering.set(id, attempt)
    try {
      return await attempt
    } finally {
      this.registering.delete(id)
    }
  }
}

/**
 * When the whole chain is valid, from the latest notBefore to the earliest notAfter of the
 * certificate, the intermediates it chains through and its CA (as the CA stands now). A chain
 * with one expired certificate is expired (reason `expired`), one with a certificate not yet
 * valid is not yet valid. Runs on every CONNECT of a registered certificate: the CA's dates are
 * parsed once per CA set (TrustedCa), the intermediates' only when there are some.
 */
function validityOf (certificate: Pick<CertificateRecord, 'notBefore' | 'notAfter' | 'chainNotBefore' | 'chainNotAfter'>, ca: TrustedCa | undefined):
  { notBeforeMs: number, notAfterMs: number } {
  let notBeforeMs = Date.parse(certificate.notBefore)
  let notAfterMs = Date.parse(certificate.notAfter)
  if (certificate.chainNotBefore !== undefined) notBeforeMs = Math.max(notBeforeMs, Date.parse(certificate.chainNotBefore))
  if (certificate.chainNotAfter !== undefined) notAfterMs = Math.min(notAfterMs, Date.parse(certificate.chainNotAfter))
  if (ca !== undefined) {
    notBeforeMs = Math.max(notBeforeMs, ca.notBeforeMs)
    notAfterMs = Math.min(notAfterMs, ca.notAfterMs)
  }
  return { notBeforeMs, notAfterMs }
}

/** The registry could not be asked: server unavailable, the device retries. */
/** `admitted` unless the client ID belongs to another certificate than `record`. */
function ownedBy (owner: string | undefined, admitted: ConnectOutcome, record: CertificateRecord): ConnectOutcome {
  return owner === undefined || owner === record.id ? admitted : ConnectService.refusal('client_id_mismatch', record)
}

function unavailable (id: string, cause: unknown): ConnectOutcome {
  return { ok: false, reason: 'store_unavailable', identity: { fingerprint: id }, cause }
}

function factsOfRecord (record: CertificateRecord, trusted: TrustedCa | undefined, nowMs: number, request: ConnectRequest): ConnectFacts {
  return {
    nowMs,
    ca: trusted?.record,
    servername: request.servername,
    usage: record,
    ...validityOf(record, trusted),
    // a revoked record is refused by its status; the deny list matters for unknown certificates.
    // The CRL matters for both: an operator's CRL does not change the record (PRODUCT §2)
    denied: trusted !== undefined && TrustStore.onCrl(trusted, record),
    record
  }
}
