/** Request and response schemas of /api/v1/cas (PRODUCT §2). Responses carry no private key. */
import { Type, type Static } from '@sinclair/typebox'
import { CA_STATUSES, REGISTRATION_MODES } from '../../domain/ca.js'
import { instant, stringEnum } from './common.js'

/** A PEM certificate is a few KiB; this bounds what one field may hold. */
export const MAX_PEM_LENGTH = 64 * 1024

export const RegisterCaBody = Type.Object({
  certificatePem: Type.String({ minLength: 1, maxLength: MAX_PEM_LENGTH, description: 'The CA certificate, one PEM block' }),
  registrationMode: stringEnum(REGISTRATION_MODES, {
    description: '`auto`: unknown certificates under this CA are registered on first connect; `manual`: they are rejected'
  }),
  autoActivate: Type.Optional(Type.Boolean({ default: true, description: 'Whether auto-registered certificates start active (else pending_activation)' })),
  description: Type.Optional(Type.String({ maxLength: 1024 }))
}, { additionalProperties: false })
export type RegisterCaBody = Static<typeof RegisterCaBody>

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
  createdAt: instant(),
  updatedAt: instant()
})
export type CaBody = Static<typeof CaBody>

export const CaListBody = Type.Object({ items: Type.Array(CaBody) })
export type CaListBody = Static<typeof CaListBody>
