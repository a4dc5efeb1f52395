/** Request and response schemas of /api/v1/certificates (PRODUCT §3). Responses carry no private key. */
import { Type, type Static } from '@sinclair/typebox'
import { CERT_SOURCES, CERT_STATUSES, MAX_ASSOCIATED_CLIENTS } from '../../domain/certificate.js'
import { CERTIFICATE_SORT_KEYS, DEFAULT_PAGE_SIZE, MAX_EXPIRING_WITHIN_DAYS, MAX_PAGE_SIZE } from '../../domain/query.js'
import { MAX_CLIENT_ID_LENGTH } from '../../registry/client-id-format.js'
import { MAX_PEM_LENGTH } from './ca.js'
import { instant, stringEnum } from './common.js'

export const RegisterCertificateBody = Type.Object({
  caId: Type.String({ minLength: 1, maxLength: 128, description: 'Id of the registered CA that issued the certificate' }),
  certificatePem: Type.String({ minLength: 1, maxLength: MAX_PEM_LENGTH, description: 'The device certificate, one PEM block' }),
  chainPem: Type.Optional(Type.String({
    maxLength: MAX_PEM_LENGTH,
    description: 'The intermediate CA certificates between the device certificate and the CA (PEM blocks, any order), when the CA did not issue it directly'
  })),
  clientId: Type.Optional(Type.String({ maxLength: MAX_CLIENT_ID_LENGTH, description: 'Registered Client ID, unique among certificates' })),
  activate: Type.Optional(Type.Boolean({ default: true, description: 'Start active (default) or inactive' }))
}, { additionalProperties: false })
export type RegisterCertificateBody = Static<typeof RegisterCertificateBody>

/** `{ "confirm": true }`; the body may be absent, which the service refuses with CONFIRMATION_REQUIRED. */
export const RevokeBody = Type.Unsafe<{ confirm?: boolean } | null>({
  type: ['object', 'null'],
  properties: { confirm: { type: 'boolean', description: 'Must be true: revocation is irreversible' } },
  additionalProperties: false
})
export type RevokeBody = Static<typeof RevokeBody>

const instantParam = (what: string): ReturnType<typeof Type.String> =>
  Type.String({ maxLength: 64, description: `${what}: ISO 8601 instant with a zone, e.g. 2026-01-31T00:00:00Z; inclusive` })

/**
 * Search filters, combinable (docs/api.md). Empty values mean "no filter" (the route drops them
 * before validation), so a form can send every field. Values are checked in
 * domain/query-params.ts, which names the parameter in every error.
 */
export const CertificateListQuery = Type.Object({
  commonName: Type.Optional(Type.String({ maxLength: 256, description: 'Exact, or a prefix when it ends with *' })),
  status: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), {
    maxItems: 16,
    description: `Any of ${CERT_STATUSES.join(', ')}: repeat the parameter and/or separate with commas`
  })),
  caId: Type.Optional(Type.String({ maxLength: 128 })),
  clientId: Type.Optional(Type.String({ maxLength: MAX_CLIENT_ID_LENGTH })),
  serialNumber: Type.Optional(Type.String({ maxLength: 128, description: 'Hex; colons, case and leading zeros do not matter' })),
  organizationalUnit: Type.Optional(Type.String({ maxLength: 256 })),
  source: Type.Optional(stringEnum(CERT_SOURCES)),
  notBeforeFrom: Type.Optional(instantParam('notBefore at or after')),
  notBeforeTo: Type.Optional(instantParam('notBefore at or before')),
  notAfterFrom: Type.Optional(instantParam('notAfter at or after')),
  notAfterTo: Type.Optional(instantParam('notAfter at or before')),
  expired: Type.Optional(Type.String({ maxLength: 5, description: 'true: notAfter is before now; false: not expired' })),
  expiringWithinDays: Type.Optional(Type.String({
    maxLength: 6, description: `Not expired and notAfter <= now + N days (N integer 0..${MAX_EXPIRING_WITHIN_DAYS})`
  })),
  sort: Type.Optional(Type.String({ maxLength: 32, description: `One of ${CERTIFICATE_SORT_KEYS.join(', ')}; default: id (fingerprint)` })),
  order: Type.Optional(Type.String({ maxLength: 4, description: 'asc (default) or desc; ties are ordered by id in the same direction' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
  cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page of the same search' }))
}, { additionalProperties: false })
export type CertificateListQuery = Static<typeof CertificateListQuery>

const certificateFields = {
  id: Type.String({ description: 'SHA-256 fingerprint of the DER, lowercase hex' }),
  status: stringEnum(CERT_STATUSES),
  source: stringEnum(CERT_SOURCES),
  commonName: Type.String(),
  organizationalUnit: Type.String(),
  organization: Type.String(),
  serialNumber: Type.String({ description: 'Uppercase hex in whole bytes, as openssl x509 -serial prints it (0A1B…, no leading 00 byte)' }),
  caId: Type.String(),
  clientId: Type.Union([Type.String(), Type.Null()]),
  notBefore: instant(),
  notAfter: instant(),
  keyType: Type.String({ description: 'e.g. EC P-256, RSA 2048' }),
  subject: Type.String(),
  issuer: Type.String(),
  fingerprint: Type.String(),
  createdAt: instant(),
  updatedAt: instant()
}

export const CertificateBody = Type.Object({ ...certificateFields, certificatePem: Type.String() })
export type CertificateBody = Static<typeof CertificateBody>

/** List items omit `certificatePem` to keep pages small. */
export const CertificateListItem = Type.Object(certificateFields)
export type CertificateListItem = Static<typeof CertificateListItem>

export const CertificateListBody = Type.Object({
  items: Type.Array(CertificateListItem),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  total: Type.Integer({ minimum: 0, description: 'How many certificates match the filters, over all pages' })
})
export type CertificateListBody = Static<typeof CertificateListBody>

export const AssociatedClientBody = Type.Object({
  clientId: Type.String(),
  connected: Type.Boolean({ description: 'Connected now (on that node)' }),
  lastSeenAt: instant('Connect time while connected; disconnect time after'),
  remoteAddress: Type.String(),
  node: Type.String({ description: 'Broker node the client connected to' }),
  connectedAt: instant()
})
export type AssociatedClientBody = Static<typeof AssociatedClientBody>

export const CertificateDetailsBody = Type.Object({
  ...certificateFields,
  certificatePem: Type.String(),
  keySize: Type.Union([Type.Integer(), Type.Null()], { description: 'Key size in bits (256 for EC P-256, 2048 for RSA 2048); null when unknown' }),
  associatedClients: Type.Array(AssociatedClientBody, {
    maxItems: MAX_ASSOCIATED_CLIENTS,
    description: `The ${MAX_ASSOCIATED_CLIENTS} most recent distinct (clientId, node) pairs, newest connect first`
  })
})
export type CertificateDetailsBody = Static<typeof CertificateDetailsBody>
