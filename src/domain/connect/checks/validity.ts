// PRODUCT §1.2: the certificate is inside its validity window (RFC 5280 §4.1.2.5: both ends inclusive).
import type { RejectReason } from '../reasons.js'

export function checkValidity (notBeforeMs: number, notAfterMs: number, nowMs: number): RejectReason | undefined {
  if (nowMs < notBeforeMs) return 'not_yet_valid'
  if (nowMs > notAfterMs) return 'expired'
  return undefined
}
