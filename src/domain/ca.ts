/** Registered CA certificates. */

export const CA_STATUSES = ['active', 'inactive'] as const
export type CaStatus = (typeof CA_STATUSES)[number]

export const REGISTRATION_MODES = ['manual', 'auto'] as const
export type RegistrationMode = (typeof REGISTRATION_MODES)[number]

/** What an operator may change on a registered CA (PATCH /api/v1/cas/:id): none of it is in the certificate. */
export interface CaSettings {
  registrationMode?: RegistrationMode
  autoActivate?: boolean
  description?: string
}

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
  /**
   * Listener hostnames (TLS SNI) the CA is bound to, lowercase, no duplicates: the CA is trusted
   * only on connections that name one of them. Empty = unbound, trusted on every connection.
   */
  hosts: string[]
  /** The state of the CRL imported for this CA; absent when none was ever imported. */
  crl?: CaCrlState
  createdAt: string
  updatedAt: string
}

/** What a CA record says about its revocation list (PRODUCT §2). */
export interface CaCrlState {
  /** Of the CRL in force; null while no import has succeeded. */
  thisUpdate: string | null
  nextUpdate: string | null
  revokedCount: number
  importedAt: string | null
  /** The last refused import, kept until a later import succeeds. */
  lastError?: CrlImportError
}

export interface CrlImportError {
  code: string
  message: string
  at: string
}
