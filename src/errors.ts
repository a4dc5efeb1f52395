/**
 * The error catalog. Every failure certmq reports carries one of these codes; the API, the CLI
 * and the logs show it verbatim. Codes are never renamed or reused (test/unit/errors.test.ts
 * checks them against docs/errors.md).
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, summary: 'The request is malformed or a field has a wrong value' },
  PEM_INVALID: { status: 400, summary: 'The PEM text could not be parsed as the expected object' },
  CA_NOT_CA: { status: 400, summary: 'The certificate is not a CA certificate (CA:TRUE with keyCertSign)' },
  CERT_NOT_LEAF: { status: 400, summary: 'The certificate is a CA certificate where a device certificate is expected' },
  CERT_WRONG_ISSUER: { status: 400, summary: 'The certificate was not issued by the chosen CA' },
  CERT_CHAIN_INVALID: { status: 400, summary: 'The path from the certificate to its CA breaks a rule: a pathLenConstraint, an extension certmq does not enforce or an intermediate not for clientAuth' },
  CERT_EXPIRED: { status: 400, summary: 'The certificate (or an intermediate of its chain) is past its notAfter and could never connect' },
  CERT_NOT_CLIENT: { status: 400, summary: 'The certificate\'s keyUsage or extendedKeyUsage does not allow TLS client authentication' },
  CA_EXPIRED: { status: 400, summary: 'The CA certificate is past its notAfter' },
  CA_UNSUPPORTED: { status: 400, summary: 'The CA certificate carries an extension certmq does not enforce (name or policy constraints, an unknown critical extension)' },
  CA_VERIFICATION_FAILED: { status: 400, summary: 'The verification certificate does not prove possession of the CA key (signature or CN)' },
  CA_VERIFICATION_REQUIRED: { status: 400, summary: 'Proof of possession is required: send verificationCertificatePem' },
  CRL_INVALID: { status: 400, summary: 'The CRL cannot be parsed, is not issued or signed by the CA, or is dated in the future' },
  CRL_STALE: { status: 400, summary: 'The CRL is past its nextUpdate or older than the CRL in force' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is larger than the admin API accepts' },
  CONFIRMATION_REQUIRED: { status: 400, summary: 'The action is irreversible and needs { "confirm": true }' },
  UNAUTHORIZED: { status: 401, summary: 'No bearer token, or a token that is not valid' },
  FORBIDDEN: { status: 403, summary: 'The token is valid but may not do this' },
  NOT_FOUND: { status: 404, summary: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The route exists, but not with this method; the Allow header lists those it has' },
  CA_NOT_FOUND: { status: 404, summary: 'No CA certificate with that id is registered' },
  CRL_NOT_FOUND: { status: 404, summary: 'No CRL was ever imported for that CA' },
  CERT_NOT_FOUND: { status: 404, summary: 'No certificate with that id (SHA-256 fingerprint) is registered' },
  CA_DUPLICATE: { status: 409, summary: 'That CA certificate is already registered' },
  CA_LIMIT_REACHED: { status: 409, summary: 'The configured maximum number of CA certificates is registered' },
  CA_HAS_ACTIVE_CERTIFICATES: { status: 409, summary: 'The CA still has active certificates and cannot be deleted' },
  CA_STATUS_CONFLICT: { status: 409, summary: 'The CA status change is not allowed from its current status' },
  CA_INACTIVE: { status: 409, summary: 'The CA is inactive and cannot take new certificates' },
  CA_BUILTIN: { status: 409, summary: 'The built-in CA cannot be deleted' },
  CERT_DUPLICATE: { status: 409, summary: 'That certificate is already registered' },
  CERT_REVOKED: { status: 409, summary: 'The certificate was revoked (revocation is irreversible), or its CA\'s CRL in force lists it or its intermediate' },
  CERT_STATUS_CONFLICT: { status: 409, summary: 'The status change is not allowed from the current status' },
  BACKUP_IN_PROGRESS: { status: 409, summary: 'A backup of the registry is being made; one is made at a time' },
  CLIENT_ID_TAKEN: { status: 409, summary: 'Another registered certificate already has that Client ID' },
  CONFIG_INVALID: { status: 500, summary: 'The configuration failed validation' },
  STORE_UNAVAILABLE: { status: 503, summary: 'The registry store cannot be reached or failed' },
  TLS_SETUP_FAILED: { status: 500, summary: 'The MQTTS listener could not load its key, certificate or CA list' },
  LISTEN_FAILED: { status: 500, summary: 'A listener (MQTTS or admin) could not bind its address and port at start' },
  BACKUP_INVALID: { status: 400, summary: 'certmq restore: the file is not a certmq backup (not an LMDB environment holding a registry)' },
  ADMIN_UNREACHABLE: { status: 503, summary: 'The CLI could not reach the admin API' },
  MONITOR_REFUSED: { status: 502, summary: 'certmq simulate: the broker refused or did not answer the monitor client, so the run cannot measure delivery' },
  INTERNAL: { status: 500, summary: 'An unexpected error; the log has the details under the request id' }
} as const satisfies Record<string, { status: number; summary: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export class CertmqError extends Error {
  override name = 'CertmqError'

  constructor (
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }

  get status (): number {
    return ERROR_CODES[this.code].status
  }
}

export function isCertmqError (err: unknown, code?: ErrorCode): err is CertmqError {
  return err instanceof CertmqError && (code === undefined || err.code === code)
}
