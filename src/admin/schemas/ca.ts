/** Request and response schemas of /api/v1/cas (PRODUCT §2). Responses carry no private key. */
import { Type, type Static } from '@sinclair/typebox'
import { CA_STATUSES, REGISTRATION_MODES } from '../../domain/ca.js'
import { MAX_CA_HOSTS } from '../../domain/ca-hosts.js'
import { instant, stringEnum } from './common.js'

/** A PEM certificate is a few KiB; this bounds what one field may hold. */
export const MAX_PEM_LENGTH = 64 * 1024

export const RegisterCaBody = Type.Object({
  certificatePem: Type.String({ minLength: 1, maxLength: MAX_PEM_LENGTH, description: 'The CA certificate, one PEM block' }),
  registrationMode: stringEnum(REGISTRATION_MODES, {
    description: '`auto`: unknown certificates under this CA are registered on first connect; `manual`: they are rejected'
  }),
  autoActivate: Type.Optional(Type.Boolean({ default: true, description: 'Whether auto-registered certificates start active (else pending_activation)' })),
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  hosts: Type.Optional(hostList()),
  verificationCertificatePem: Type.Optional(Type.String({
    minLength: 1,
    maxLength: MAX_PEM_LENGTH,
    description: 'Proof of possession: a certificate signed by the CA key whose subject CN is the registration code (GET /api/v1/cas/registration-code). Required when cas.requireProofOfPossession is set'
  }))
}, { additionalProperties: false })
export type RegisterCaBody = Static<typeof RegisterCaBody>

export const UpdateCaBody = Type.Object({
  registrationMode: Type.Optional(stringEnum(REGISTRATION_MODES, {
    description: '`auto`: unknown certificates under this CA are registered on first connect; `manual`: they are rejected'
  })),
  autoActivate: Type.Optional(Type.Boolean({ description: 'Whether auto-registered certificates start active (else pending_activation)' })),
  description: Type.Optional(Type.String({ maxLength: 1024 }))
}, { additionalProperties: false, minProperties: 1 })
export type UpdateCaBody = Static<typeof UpdateCaBody>

/** Listener hostnames (TLS SNI); each is validated as a DNS hostname by the service. */
function hostList () {
  return Type.Array(Type.String({ maxLength: 254 }), {
    maxItems: MAX_CA_HOSTS,
    description: `Listener hostnames (TLS SNI) the CA is bound to, at most ${MAX_CA_HOSTS}; lowercased and deduplicated. Empty = unbound, trusted on every connection`
  })
}

const CrlError = Type.Object({
  code: Type.String({ description: 'CRL_INVALID or CRL_STALE' }),
  message: Type.String(),
  at: instant()
})

const crlStateFields = {
  thisUpdate: Type.Union([instant(), Type.Null()], { description: 'Of the CRL in force; null while none was accepted' }),
  nextUpdate: Type.Union([instant(), Type.Null()]),
  revokedCount: Type.Integer({ description: 'Serials on the CRL in force' }),
  importedAt: Type.Union([instant(), Type.Null()]),
  lastError: Type.Optional(CrlError)
}

export const CaCrlState = Type.Object(crlStateFields, { description: 'The CRL imported for this CA; the last refused import is in lastError' })

export const CaBody = Type.Object({
  id: Type.String({ description: 'SHA-256 fingerprint of the DER, lowercase hex' }),
  fingerprint: Type.String(),
  subject: Type.String(),
  commonName: Type.String(),
  serialNumber: Type.String(),
  status: stringEnum(CA_STATUSES),
  registrationMode: stringEnum(REGISTRATION_MODES),
  autoActivate: Type.Boolean(),
  description: Type.String(),
  builtin: Type.Boolean({ description: 'The deployment\'s own CA; cannot be deleted' }),
  notBefore: instant(),
  notAfter: instant(),
  certificatePem: Type.String(),
  hosts: Type.Array(Type.String(), { description: 'Listener hostnames (TLS SNI) the CA is bound to; empty = unbound' }),
  crl: Type.Optional(CaCrlState),
  createdAt: instant(),
  updatedAt: instant()
})
export type CaBody = Static<typeof CaBody>

export const CaListBody = Type.Object({ items: Type.Array(CaBody) })
export type CaListBody = Static<typeof CaListBody>

export const CaHostsRequest = Type.Object({ hosts: hostList() }, { additionalProperties: false })
export type CaHostsRequest = Static<typeof CaHostsRequest>

export const CaHostsBody = Type.Object({ caId: Type.String(), hosts: Type.Array(Type.String()) })
export type CaHostsBody = Static<typeof CaHostsBody>

export const RegistrationCodeBody = Type.Object({
  registrationCode: Type.String({ description: 'Put it as the subject CN of a verification certificate signed by the CA key' })
})
export type RegistrationCodeBody = Static<typeof RegistrationCodeBody>

/** Largest CRL accepted (DER bytes). */
export const MAX_CRL_BYTES = 10 * 1024 * 1024

export const CrlPemRequest = Type.Object({
  crlPem: Type.String({ minLength: 1, description: 'One -----BEGIN X509 CRL----- block' })
}, { additionalProperties: false })
export type CrlPemRequest = Static<typeof CrlPemRequest>

export const CrlQuery = Type.Object({
  includePem: Type.Boolean({ default: false, description: 'Add the CRL in force as crlPem' })
}, { additionalProperties: false })
export type CrlQuery = Static<typeof CrlQuery>

export const CrlBody = Type.Object({
  caId: Type.String(),
  ...crlStateFields,
  stale: Type.Boolean({ description: 'nextUpdate has passed: the CRL is still enforced, a newer one is due' }),
  crlPem: Type.Optional(Type.String())
})
export type CrlBody = Static<typeof CrlBody>
