// PRODUCT §1.2: a leaf (basicConstraints CA:FALSE or absent); keyUsage, when present, allows
// digitalSignature (RFC 5280 §4.2.1.3); extendedKeyUsage, when present, allows clientAuth or
// anyExtendedKeyUsage (RFC 5280 §4.2.1.12). A certificate with neither extension is accepted,
// as OpenSSL accepts it for TLS client authentication.
import type { RejectReason } from '../reasons.js'

export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
export const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0'

export interface UsageFacts {
  isCa: boolean
  keyUsage: readonly string[] | null
  extendedKeyUsage: readonly string[] | null
}

export function checkClientUsage (facts: UsageFacts): RejectReason | undefined {
  if (facts.isCa) return 'not_client_cert'
  if (facts.keyUsage !== null && !facts.keyUsage.includes('digitalSignature')) return 'not_client_cert'
  if (facts.extendedKeyUsage !== null &&
    !facts.extendedKeyUsage.includes(OID_CLIENT_AUTH) &&
    !facts.extendedKeyUsage.includes(OID_ANY_EXTENDED_KEY_USAGE)) return 'not_client_cert'
  return undefined
}
