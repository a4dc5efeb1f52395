/**
 * Chaining a client certificate to the registered CAs on the CONNECT hot path. Works on Node's
 * X509Certificate (OpenSSL underneath), 3–5× faster than parsing with @peculiar/x509.
 */
import type { X509Certificate } from 'node:crypto'
import { fingerprintOfDer, formatSerial } from './inspect.js'

/** Most intermediates walked between a leaf and a trusted CA. */
export const MAX_INTERMEDIATES = 5

/** Most certificates read from what a client sent after its leaf (intermediates, maybe the root too). */
const MAX_PRESENTED = 8

/**
 * The certificates a TLS client sent after its leaf, in order, read through the leaf's
 * `issuerCertificate` links (a peer certificate from TLSSocket.getPeerX509Certificate()). Once
 * that has run, Node's getPeerCertificate(true) no longer links the sent chain (seen on Node
 * 20.20). Stops at a repeat and after MAX_PRESENTED.
 */
export function presentedChain (leaf: X509Certificate): X509Certificate[] {
  const chain: X509Certificate[] = []
  let issuer = leaf.issuerCertificate
  while (issuer !== undefined && chain.length < MAX_PRESENTED && !chain.some((c) => c.fingerprint256 === issuer!.fingerprint256)) {
    chain.push(issuer)
    issuer = issuer.issuerCertificate
  }
  return chain
}

/**
 * When the intermediates a certificate chains through are all valid: the latest notBefore and the
 * earliest notAfter among them, kept with its record (chainNotBefore, chainNotAfter); nothing
 * when the CA issued it directly.
 */
export function intermediatesWindow (intermediates: readonly X509Certificate[]): { chainNotBefore?: string, chainNotAfter?: string } {
  let notBeforeMs = -Infinity
  let notAfterMs = Infinity
  for (const intermediate of intermediates) {
    // an unparsable date leaves the window as it is: OpenSSL parsed the certificate, so none is expected
    const from = Date.parse(intermediate.validFrom)
    const to = Date.parse(intermediate.validTo)
    if (!Number.isNaN(from)) notBeforeMs = Math.max(notBeforeMs, from)
    if (!Number.isNaN(to)) notAfterMs = Math.min(notAfterMs, to)
  }
  return {
    ...(notBeforeMs === -Infinity ? {} : { chainNotBefore: new Date(notBeforeMs).toISOString() }),
    ...(notAfterMs === Infinity ? {} : { chainNotAfter: new Date(notAfterMs).toISOString() })
  }
}

/** The path kept with a certificate's record (CertificateRecord.intermediates); nothing when its CA issued it. */
export function recordedPath (intermediates: readonly X509Certificate[]): { intermediates?: Array<{ fingerprint: string, serialNumber: string }> } {
  if (intermediates.length === 0) return {}
  return {
    intermediates: intermediates.map((c) => ({ fingerprint: fingerprintOfDer(c.raw), serialNumber: formatSerial(c.serialNumber) }))
  }
}

/**
 * True when `issuer` issued `child`: names and key identifiers match, the issuer's keyUsage (if
 * any) allows keyCertSign (OpenSSL X509_check_issued), and the signature verifies with the
 * issuer's key. False on any error; never throws.
 */
export function isIssuedBy (child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/**
 * The trusted CAs indexed by subject, so finding a certificate's issuer is a map lookup plus a
 * signature check. Build one per version of the CA set; it does not follow later changes of the
 * map it was built from.
 */
export class TrustIndex {
  private readonly bySubject = new Map<string, Array<{ caId: string, certificate: X509Certificate }>>()

  /**
   * `preferred`: CAs tried before the others of the same subject. Two registered CA certificates
   * can both verify a child: a CA renewed with its own key and name (a rollover), registered
   * again beside the old one. The active one must answer for the child, whatever the order of
   * registration; an inactive one only when no other verifies. Among equals the one valid
   * longest comes first: while both copies are active, the old one expires first, and a child
   * chained to it would then be refused as expired.
   */
  constructor (trusted: ReadonlyMap<string, X509Certificate>, preferred: (caId: string) => boolean = () => true) {
    for (const [caId, certificate] of trusted) {
      const key = nameKey(certificate.subject)
      const list = this.bySubject.get(key)
      if (list === undefined) this.bySubject.set(key, [{ caId, certificate }])
      else list.push({ caId, certificate })
    }
    for (const list of this.bySubject.values()) {
      if (list.length > 1) {
        list.sort((a, b) => (Number(preferred(b.caId)) - Number(preferred(a.caId))) ||
          (Date.parse(b.certificate.validTo) - Date.parse(a.certificate.validTo)))
      }
    }
  }

  /** id of the trusted CA that issued `child` (a preferred one first), or undefined. */
  issuerOf (child: X509Certificate): string | undefined {
    const candidates = this.bySubject.get(nameKey(child.issuer))
    if (candidates === undefined) return undefined
    for (const { caId, certificate } of candidates) {
      if (isIssuedBy(child, certificate)) return caId
    }
    return undefined
  }
}

// TrustStore hands the same Map until the CA set changes: index each map once
const indexes = new WeakMap<ReadonlyMap<string, X509Certificate>, { size: number, index: TrustIndex }>()

function indexOf (trusted: ReadonlyMap<string, X509Certificate> | TrustIndex): TrustIndex {
  if (trusted instanceof TrustIndex) return trusted
  const cached = indexes.get(trusted)
  if (cached !== undefined && cached.size === trusted.size) return cached.index
  const index = new TrustIndex(trusted)
  indexes.set(trusted, { size: trusted.size, index })
  return index
}

/**
 * Walks from `leaf` through the certificates the client presented until one is issued by a
 * trusted CA; a registered CA that the client also sent is found by its own entry, so "equal to
 * a trusted CA" needs no separate case. Each intermediate must be a CA certificate
 * (basicConstraints CA:TRUE) that issued the previous one; at most MAX_INTERMEDIATES of them.
 * Returns the CA id and the intermediates used, leaf side first; undefined when there is no
 * such path. Validity dates and revocation are not checked here.
 *
 * A plain Map is indexed on first use and the index is reused for that same Map object (a
 * change of size rebuilds it); treat the Map as immutable after passing it, or pass a TrustIndex.
 */
export function findIssuerChain (
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  trusted: ReadonlyMap<string, X509Certificate> | TrustIndex
): { caId: string, intermediates: X509Certificate[] } | undefined {
  const index = indexOf(trusted)
  const intermediates: X509Certificate[] = []
  const used = new Set<string>([leaf.fingerprint256])
  let current = leaf
  for (;;) {
    const caId = index.issuerOf(current)
    if (caId !== undefined) return { caId, intermediates }
    if (intermediates.length === MAX_INTERMEDIATES) return undefined
    const issuerKey = nameKey(current.issuer)
    const next = presented.find((candidate) =>
      !used.has(candidate.fingerprint256) &&
      candidate.ca &&
      nameKey(candidate.subject) === issuerKey &&
      isIssuedBy(current, candidate))
    if (next === undefined) return undefined
    intermediates.push(next)
    used.add(next.fingerprint256)
    current = next
  }
}

/**
 * Index key for a distinguished name as Node prints it. OpenSSL compares names in a canonical
 * form (case-folded, whitespace collapsed); fold the same way so a lookup never misses an issuer
 * that checkIssued would accept. The signature check decides, so a looser key is harmless.
 */
export function nameKey (name: string): string {
  return name.toLowerCase().replace(/\s+/g, ' ')
}
