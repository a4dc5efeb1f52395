// PRODUCT §1.3: registered and active → continue; registered but not active → reject with the
// status; unregistered → register under an `auto` CA, reject under a `manual` one.
import type { CaRecord } from '../../ca.js'
import type { CertificateRecord, CertStatus } from '../../certificate.js'
import { autoInitialStatus } from '../../lifecycle.js'
import type { RejectReason } from '../reasons.js'

export type RegistrationVerdict =
  | { kind: 'reject'; reason: RejectReason }
  | { kind: 'admit'; record: CertificateRecord }
  | { kind: 'register'; status: CertStatus }

const STATUS_REASON: Record<Exclude<CertStatus, 'active'>, RejectReason> = {
  inactive: 'inactive',
  pending_activation: 'pending_activation',
  revoked: 'revoked'
}

export function checkRegistration (record: CertificateRecord | undefined, ca: CaRecord): RegistrationVerdict {
  if (record !== undefined) {
    return record.status === 'active'
      ? { kind: 'admit', record }
      : { kind: 'reject', reason: STATUS_REASON[record.status] }
  }
  if (ca.registrationMode === 'auto') return { kind: 'register', status: autoInitialStatus(ca.autoActivate) }
  return { kind: 'reject', reason: 'unregistered' }
}
