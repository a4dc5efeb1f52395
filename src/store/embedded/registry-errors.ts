/**
 * The domain errors the embedded store throws, worded once: what went wrong and to which record.
 * `details` carries the same facts as fields, with the full ids.
 */
import { CertmqError } from '../../errors.js'
import type { CertStatus } from '../../domain/certificate.js'
import type { CaStatus } from '../../domain/ca.js'

/** Fingerprints are 64 hex digits; messages show the first 12, details keep the whole id. */
export function shortId (id: string): string {
  return id.length > 16 ? `${id.slice(0, 12)}…` : id
}

export const caErrors = {
  duplicate: (id: string) =>
    new CertmqError('CA_DUPLICATE', `CA ${shortId(id)} is already registered`, { id }),
  limitReached: (id: string, maxCas: number, registered: number) =>
    new CertmqError('CA_LIMIT_REACHED',
      `CA ${shortId(id)} cannot be registered: ${registered} CAs are registered and the maximum is ${maxCas}`,
      { id, maxCas, registered }),
  notFound: (id: string) =>
    new CertmqError('CA_NOT_FOUND', `CA ${shortId(id)} is not registered`, { id }),
  statusConflict: (id: string, status: CaStatus, to: CaStatus, allowedFrom: readonly CaStatus[]) =>
    new CertmqError('CA_STATUS_CONFLICT', `CA ${shortId(id)} is ${status} and cannot become ${to}`,
      { id, status, to, allowedFrom: [...allowedFrom] }),
  builtin: (id: string) =>
    new CertmqError('CA_BUILTIN', `CA ${shortId(id)} is the built-in CA and cannot be deleted`, { id }),
  hasActiveCertificates: (id: string, activeCertificates: number) =>
    new CertmqError('CA_HAS_ACTIVE_CERTIFICATES',
      `CA ${shortId(id)} has ${activeCertificates} active certificate(s) and cannot be deleted: deactivate or revoke them first`, { id, activeCertificates })
}

export const certErrors = {
  duplicate: (id: string, status: CertStatus) =>
    new CertmqError('CERT_DUPLICATE', `certificate ${shortId(id)} is already registered (${status})`, { id, status }),
  revoked: (id: string, revokedAt: string) =>
    new CertmqError('CERT_REVOKED', `certificate ${shortId(id)} was revoked at ${revokedAt} and cannot be registered again`,
      { id, revokedAt }),
  caNotFound: (id: string, caId: string) =>
    new CertmqError('CA_NOT_FOUND', `certificate ${shortId(id)} names CA ${shortId(caId)}, which is not registered`, { id, caId }),
  clientIdTaken: (id: string, clientId: string, takenBy: string) =>
    new CertmqError('CLIENT_ID_TAKEN',
      `certificate ${shortId(id)}: Client ID "${clientId}" is already registered to certificate ${shortId(takenBy)}`,
      { id, clientId, takenBy }),
  notFound: (id: string) =>
    new CertmqError('CERT_NOT_FOUND', `certificate ${shortId(id)} is not registered`, { id }),
  statusConflict: (id: string, status: CertStatus, to: CertStatus, allowedFrom: readonly CertStatus[]) =>
    new CertmqError('CERT_STATUS_CONFLICT', `certificate ${shortId(id)} is ${status} and cannot become ${to}`,
      { id, status, to, allowedFrom: [...allowedFrom] }),
  deleteConflict: (id: string, status: CertStatus, allowedFrom: readonly CertStatus[]) =>
    new CertmqError('CERT_STATUS_CONFLICT', `certificate ${shortId(id)} is ${status} and cannot be deleted: deactivate or revoke it first`,
      { id, status, allowedFrom: [...allowedFrom] })
}

export const crlErrors = {
  older: (caId: string, thisUpdate: string, inForce: string) =>
    new CertmqError('CRL_STALE',
      `CA ${shortId(caId)}: the CRL's thisUpdate ${thisUpdate} is older than the CRL in force (${inForce})`,
      { caId, thisUpdate, inForce })
}
