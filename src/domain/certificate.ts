/** Client (device) certificate records and the facts extracted from a certificate. */

export const CERT_STATUSES = ['active', 'inactive', 'pending_activation', 'revoked'] as const
export type CertStatus = (typeof CERT_STATUSES)[number]

export const CERT_SOURCES = ['manual', 'auto', 'issued'] as const
export type CertSource = (typeof CERT_SOURCES)[number]

/**
 * What certmq reads out of an X.509 certificate once (pki/inspect.ts) and stores with its record,
 * so the CONNECT path never parses extensions again for a known certificate.
 */
export interface CertificateFacts {
  /** SHA-256 of the DER encoding, lowercase hex, no separators. */
  fingerprint: string
  /** Serial number, uppercase hex in whole bytes without a leading 00 byte, as openssl x509 -serial prints it. */
  serialNumber: string
  subject: string
  issuer: string
  commonName: string
  organizationalUnit: string
  organization: string
  /** ISO 8601 instants. */
  notBefore: string
  notAfter: string
  /** e.g. `EC P-256`, `RSA 4096`, `Ed25519`. */
  keyType: string
  /** basicConstraints CA:TRUE. */
  isCa: boolean
  /** keyUsage extension, or null when absent; names as RFC 5280 spells them (digitalSignature…). */
  keyUsage: readonly string[] | null
  /** extendedKeyUsage OIDs, or null when absent. */
  extendedKeyUsage: readonly string[] | null
}

export interface CertificateRecord extends CertificateFacts {
  /** = fingerprint: SHA-256, lowercase hex. */
  id: string
  status: CertStatus
  source: CertSource
  /** id of the registered CA the certificate chains to. */
  caId: string
  /** Registered Client ID, or null when none was set. */
  clientId: string | null
  /** PEM of the certificate itself (public material). */
  certificatePem: string
  /**
   * Serial (as formatSerial writes it) of the intermediate directly under the CA that the
   * certificate chained through when it was registered automatically; absent when the CA issued it.
   * A CRL of the CA that lists this serial revokes the certificate too.
   */
  viaSerial?: string
  /**
   * The latest notBefore and the earliest notAfter (ISO 8601) of the intermediates the
   * certificate chained through when it was registered; absent when its CA issued it directly.
   * The certificate is refused outside that window as outside its own.
   */
  chainNotBefore?: string
  chainNotAfter?: string
  /**
   * The intermediates the certificate chained through when it was registered, leaf side first:
   * an intermediate registered as a CA of its own later (to deactivate it, or to import its CRL)
   * governs the certificates registered through it before as well. Absent when the CA issued it.
   */
  intermediates?: ReadonlyArray<{ fingerprint: string, serialNumber: string }>
  createdAt: string
  updatedAt: string
}

/**
 * How many associated clients a certificate keeps: the most recent distinct (clientId, node)
 * pairs, newest connect first. Bounded so a device that reconnects under ever new client IDs
 * cannot grow its record without limit; the details view shows all of them.
 */
export const MAX_ASSOCIATED_CLIENTS = 20

/**
 * Key size in bits from a `keyType` as pki/inspect.ts writes it (`EC P-256` → 256, `RSA 4096` →
 * 4096, `Ed25519` → 256, `Ed448` → 448, as the curves are named), or null when it does not say.
 */
export function keySizeOf (keyType: string): number | null {
  const rsa = /^(?:RSA|RSA-PSS|DSA) (\d+)$/.exec(keyType)
  if (rsa !== null) return Number(rsa[1])
  const ec = /^EC P-(\d+)$/.exec(keyType)
  if (ec !== null) return Number(ec[1])
  if (keyType === 'Ed25519') return 256
  if (keyType === 'Ed448') return 448
  return null
}

/** One client that used a certificate: PRODUCT §1.5 "associated clients". */
export interface AssociatedClient {
  clientId: string
  connected: boolean
  remoteAddress: string
  node: string
  connectedAt: string
  lastSeenAt: string
}

/** CA and certificate ids are SHA-256 fingerprints; accept upper case and colon-separated forms too. */
export function normalizeId (id: string): string {
  return id.replace(/:/g, '').toLowerCase()
}
