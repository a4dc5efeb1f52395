// PRODUCT §1.1: the certificate chains to a registered CA, and that CA is active.
import type { CaRecord } from '../../ca.js'
import type { RejectReason } from '../reasons.js'

export function checkTrustedCa (ca: CaRecord | undefined): RejectReason | undefined {
  if (ca === undefined) return 'unknown_ca'
  if (ca.status !== 'active') return 'ca_inactive'
  return undefined
}
