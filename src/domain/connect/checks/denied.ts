// PRODUCT §1.2 and §3: a certificate that was revoked stays refused, also after it was deleted
// from the registry (the deny list) and when its serial is on a revocation list the broker holds.
import type { RejectReason } from '../reasons.js'

export function checkNotDenied (denied: boolean): RejectReason | undefined {
  return denied ? 'revoked' : undefined
}
