/** Registered CA certificates. */

export const CA_STATUSES = ['active', 'inactive'] as const
export type CaStatus = (typeof CA_STATUSES)[number]

export const REGISTRATION_MODES = ['manual', 'auto'] as const
export type RegistrationMode = (typeof REGISTRATION_MODES)[number]

export interface CaRecord {
  /** = fingerprint: SHA-256 of the DER, lowercase hex. */
  id: string
  fingerprint: string
  subject: string
  commonName: string
  serialNumber: string
  status: CaStatus
  registrationMode: RegistrationMode
  /** Whether automatically registered certificates start `active` (else `pending_activation`). */
  autoActivate: boolean
  description: string
  /** The deployment's own CA (PRODUCT §4): cannot be deleted. */
  builtin: boolean
  notBefore: string
  notAfter: string
  certificatePem: string
  createdAt: string
  updatedAt: string
}
