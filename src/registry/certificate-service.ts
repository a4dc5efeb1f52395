/**
 * Operator use cases for client certificates (PRODUCT §3): manual registration, lookup, search,
 * activate, deactivate, revoke, delete. Every status change is pushed on the StatusBus so live
 * sessions are dropped at once.
 */
import { X509Certificate } from 'node:crypto'
import { CertmqError } from '../errors.js'
import { keySizeOf, normalizeId, type AssociatedClient, type CertificateFacts, type CertificateRecord, type CertSource } from '../domain/certificate.js'
import { CERT_DELETABLE_FROM, CERT_TRANSITIONS, manualInitialStatus, type CertAction } from '../domain/lifecycle.js'
import type { CertificatePage, CertificateQuery } from '../domain/query.js'
import { parseCertificatePem, parseCertificatesPem } from '../pki/pem.js'
import { formatSerial, inspectCertificate } from '../pki/inspect.js'
import { findIssuerChain, intermediatesWindow, recordedPath, TrustIndex } from '../pki/chain.js'
import { caConstraintsOf, pathProblem } from '../pki/path-constraints.js'
import { checkClientUsage } from '../domain/connect/checks/client-usage.js'
import type { CaRecord } from '../domain/ca.js'
import type { RegistryStore, StatusBus } from '../store/ports.js'
import { TrustStore } from '../auth/trust-store.js'
import { validateClientId } from './client-id-format.js'
import { ACTOR_ADMIN, type EventType } from '../domain/event.js'
import type { AuditTrail } from '../events/audit-trail.js'
import { certificateChanged, certificateRegistered } from '../events/change-events.js'

export interface RegisterCertificateInput {
  caId: string
  certificatePem: string
  /** Intermediate CA certificates between it and the CA, when the CA did not issue it directly. */
  chainPem?: string
  clientId?: string | null
  activate?: boolean
  source?: CertSource
  /** Who registers it, for the event; default `admin`. */
  actor?: string
}

export interface CertificateServiceDeps {
  store: RegistryStore
  bus: StatusBus
  now: () => Date
  /** Where changes are recorded as events (item 4); absent in tests that do not look at events. */
  events?: AuditTrail
  /** The CAs as CONNECT sees them, with their CRLs: a certificate on one is refused, as it could never connect. */
  trust?: Pick<TrustStore, 'get'>
}

export type CertificateDetails = CertificateRecord & { keySize: number | null, associatedClients: AssociatedClient[] }

export class CertificateService {
  constructor (private readonly deps: CertificateServiceDeps) {}

  /**
   * Registers a device certificate under a registered CA. Throws PEM_INVALID, VALIDATION_FAILED
   * (Client ID), CA_NOT_FOUND, CA_INACTIVE, CERT_NOT_LEAF, CERT_WRONG_ISSUER, CERT_EXPIRED,
   * CA_EXPIRED, CERT_NOT_CLIENT, CERT_CHAIN_INVALID, CERT_DUPLICATE, CERT_REVOKED (revoked before, or on the CA's CRL),
   * CLIENT_ID_TAKEN.
   */
  async register (input: RegisterCertificateInput): Promise<CertificateRecord> {
    const { der, pem } = parseCertificatePem(input.certificatePem, 'certificatePem')
    const facts = inspectCertificate(der)
    const clientId = input.clientId === undefined || input.clientId === null || input.clientId === ''
      ? null
      : validateClientId(input.clientId, 'clientId')
    if (facts.isCa) {
      throw new CertmqError('CERT_NOT_LEAF', `certificatePem: ${facts.subject} is a CA certificate, not a device certificate`,
        { fingerprint: facts.fingerprint })
    }
    const caId = normalizeId(input.caId)
    const ca = await this.deps.store.getCa(caId)
    if (ca === undefined) throw new CertmqError('CA_NOT_FOUND', `caId: CA ${input.caId} is not registered`, { caId: input.caId })
    if (ca.status !== 'active') {
      throw new CertmqError('CA_INACTIVE', `caId: CA ${ca.id} is inactive and takes no new certificates`, { caId: ca.id })
    }
    const intermediates = input.chainPem === undefined || input.chainPem.trim() === '' ? [] : parseCertificatesPem(input.chainPem, 'chainPem')
    // the same walk as a CONNECT's: each intermediate a CA that issued the one below, up to this
    // CA, at most MAX_INTERMEDIATES of them; a bundle may hold more (the CA itself, other branches)
    const caCertificate = new X509Certificate(ca.certificatePem)
    const chain = findIssuerChain(new X509Certificate(der), intermediates, new TrustIndex(new Map([[ca.id, caCertificate]])))
    if (chain === undefined) {
      throw new CertmqError('CERT_WRONG_ISSUER',
        `certificatePem: ${facts.subject} was not issued by CA ${ca.id} (${ca.subject})${intermediates.length === 0 ? '' : ' through the certificates in chainPem'}`,
        { fingerprint: facts.fingerprint, caId: ca.id, issuer: facts.issuer })
    }
    const window = intermediatesWindow(chain.intermediates)
    this.checkUsable(facts, window, ca, caCertificate, chain.intermediates, der)
    const top = chain.intermediates.at(-1)
    // a CRL of the CA that lists this intermediate revokes the certificate too (as for automatic registration)
    const viaSerial = top === undefined ? undefined : formatSerial(top.serialNumber)
    this.checkNotOnCrl(facts, viaSerial, ca)
    const now = this.deps.now().toISOString()
    const saved = await this.deps.store.insertCertificate({
      ...facts,
      ...window,
      ...recordedPath(chain.intermediates),
      id: facts.fingerprint,
      status: manualInitialStatus(input.activate ?? true),
      source: input.source ?? 'manual',
      caId: ca.id,
      clientId,
      certificatePem: pem,
      ...(viaSerial === undefined ? {} : { viaSerial }),
      createdAt: now,
      updatedAt: now
    })
    await this.deps.events?.recordChange(certificateRegistered(saved, input.actor ?? ACTOR_ADMIN))
    return saved
  }

  /**
   * A certificate the CA's CRL in force revokes (itself, or the intermediate it chains through)
   * would be refused at every CONNECT as `revoked`: CERT_REVOKED now rather than a record for a
   * device that never gets in.
   */
  private checkNotOnCrl (facts: CertificateFacts, viaSerial: string | undefined, ca: CaRecord): void {
    const trusted = this.deps.trust?.get(ca.id)
    if (trusted === undefined || !TrustStore.onCrl(trusted, { serialNumber: facts.serialNumber, issuer: facts.issuer, viaSerial })) return
    const what = viaSerial !== undefined && trusted.revoked.has(viaSerial) ? `the intermediate CA it chains through (serial ${viaSerial}) is` : `its serial ${facts.serialNumber} is`
    throw new CertmqError('CERT_REVOKED', `certificatePem: ${facts.subject}: ${what} on the CRL of CA ${ca.id} in force (imported ${ca.crl?.importedAt ?? 'earlier'}); it could never connect`,
      { fingerprint: facts.fingerprint, caId: ca.id, serialNumber: facts.serialNumber, ...(viaSerial === undefined ? {} : { viaSerial }) })
  }

  /**
   * A certificate registered active must be able to connect: refused now what every CONNECT would
   * refuse (CERT_EXPIRED, CA_EXPIRED, CERT_NOT_CLIENT, CERT_CHAIN_INVALID), rather than registered
   * `active` for a device that never gets in. One not valid yet is accepted: devices are often
   * registered before they ship.
   */
  private checkUsable (facts: CertificateFacts, window: { chainNotAfter?: string }, ca: CaRecord, caCertificate: X509Certificate,
    intermediates: readonly X509Certificate[], der: Uint8Array): void {
    const nowMs = this.deps.now().getTime()
    const fingerprint = facts.fingerprint
    if (Date.parse(facts.notAfter) < nowMs) {
      throw new CertmqError('CERT_EXPIRED', `certificatePem: ${facts.subject} expired on ${facts.notAfter}`, { fingerprint, notAfter: facts.notAfter })
    }
    if (window.chainNotAfter !== undefined && Date.parse(window.chainNotAfter) < nowMs) {
      throw new CertmqError('CERT_EXPIRED', `chainPem: an intermediate of ${facts.subject} expired on ${window.chainNotAfter}`,
        { fingerprint, notAfter: window.chainNotAfter })
    }
    if (Date.parse(ca.notAfter) < nowMs) {
      throw new CertmqError('CA_EXPIRED', `caId: CA ${ca.id} (${ca.subject}) expired on ${ca.notAfter}`, { caId: ca.id, notAfter: ca.notAfter })
    }
    if (checkClientUsage(facts) !== undefined) {
      throw new CertmqError('CERT_NOT_CLIENT',
        `certificatePem: ${facts.subject} is not for TLS client authentication (keyUsage needs digitalSignature and extendedKeyUsage clientAuth, when present)`,
        { fingerprint, keyUsage: facts.keyUsage, extendedKeyUsage: facts.extendedKeyUsage })
    }
    const problem = pathProblem(der, intermediates.map((c) => c.raw), caConstraintsOf(caCertificate.raw))
    if (problem !== undefined) {
      throw new CertmqError('CERT_CHAIN_INVALID', `certificatePem: the path from ${facts.subject} to CA ${ca.id} is not acceptable: ${problem}`,
        { fingerprint, caId: ca.id })
    }
  }

  /** Throws CERT_NOT_FOUND. */
  async get (id: string): Promise<CertificateDetails> {
    const record = await this.deps.store.getCertificate(normalizeId(id))
    if (record === undefined) throw notFound(id)
    const associatedClients = await this.deps.store.getAssociatedClients(record.id)
    return { ...record, keySize: keySizeOf(record.keyType), associatedClients }
  }

  /**
   * One page of a search, with the total of matches. `expired` and `expiringWithinDays` are
   * evaluated at the clock's now unless the query brings its own. Throws VALIDATION_FAILED.
   */
  async list (query: CertificateQuery): Promise<CertificatePage<CertificateRecord>> {
    return await this.deps.store.listCertificates(query.now === undefined ? { ...query, now: this.deps.now().toISOString() } : query)
  }

  /**
   * activate / deactivate / revoke. Throws CERT_NOT_FOUND, CERT_STATUS_CONFLICT (CERT_REVOKED
   * when the certificate is revoked), CONFIRMATION_REQUIRED for revoke without confirm of a
   * certificate that could be revoked. `actor` names who did it in the event.
   */
  async transition (id: string, action: CertAction, confirm = false, actor: string = ACTOR_ADMIN): Promise<CertificateRecord> {
    const rule = CERT_TRANSITIONS[action]
    if (action === 'revoke' && !confirm) {
      // confirmation is asked only when there is something to confirm: an unknown or already
      // revoked certificate answers 404 / 409 as a confirmed revoke would
      const current = await this.deps.store.getCertificate(normalizeId(id))
      if (current === undefined) throw notFound(id)
      if (current.status === 'revoked') {
        throw revoked(id, action, { id: current.id, status: current.status, to: rule.to, allowedFrom: [...rule.allowedFrom] })
      }
      throw new CertmqError('CONFIRMATION_REQUIRED', `revoking certificate ${id} is irreversible: send { "confirm": true }`, { id })
    }
    let changed: { record: CertificateRecord, from: CertificateRecord['status'] }
    try {
      changed = await this.deps.store.transitionCertificate(normalizeId(id), rule.allowedFrom, rule.to, this.deps.now().toISOString())
    } catch (err) {
      if (err instanceof CertmqError && err.code === 'CERT_STATUS_CONFLICT' && err.details['status'] === 'revoked') {
        throw revoked(id, action, err.details, err)
      }
      throw err
    }
    const { record, from } = changed
    await this.deps.bus.publish({ kind: 'certificate', id: record.id, status: record.status })
    await this.deps.events?.recordChange(certificateChanged(EVENT_OF_ACTION[action], record, from, actor))
    return record
  }

  /** Throws CERT_NOT_FOUND, CERT_STATUS_CONFLICT while active. `actor` names who did it in the event. */
  async delete (id: string, actor: string = ACTOR_ADMIN): Promise<CertificateRecord> {
    const record = await this.deps.store.deleteCertificate(normalizeId(id), CERT_DELETABLE_FROM)
    await this.deps.bus.publish({ kind: 'certificate', id: record.id, status: 'deleted' })
    await this.deps.events?.recordChange(certificateChanged('certificate.deleted', record, record.status, actor))
    return record
  }
}

const EVENT_OF_ACTION = {
  activate: 'certificate.activated',
  deactivate: 'certificate.deactivated',
  revoke: 'certificate.revoked'
} as const satisfies Record<CertAction, EventType>

function revoked (id: string, action: CertAction, details: Readonly<Record<string, unknown>>, cause?: unknown): CertmqError {
  return new CertmqError('CERT_REVOKED', `certificate ${id} is revoked and cannot be ${action}d`, details, cause === undefined ? undefined : { cause })
}

function notFound (id: string): CertmqError {
  return new CertmqError('CERT_NOT_FOUND', `certificate ${id} is not registered`, { id })
}
