/**
 * Operator use cases for CA certificates (PRODUCT §2): register, list, get, activate,
 * deactivate, delete. Rules come from the domain; atomic checks live in the store.
 */
import { X509Certificate } from 'node:crypto'
import { CertmqError } from '../errors.js'
import type { CaRecord, RegistrationMode } from '../domain/ca.js'
import { CA_TRANSITIONS, type CaAction } from '../domain/lifecycle.js'
import { parseCertificatePem } from '../pki/pem.js'
import { inspectCertificate } from '../pki/inspect.js'
import type { RegistryStore, StatusBus } from '../store/ports.js'
import { ACTOR_ADMIN } from '../domain/event.js'
import type { AuditTrail } from '../events/audit-trail.js'
import { caChanged, caRegistered } from '../events/change-events.js'

export interface RegisterCaInput {
  certificatePem: string
  registrationMode: RegistrationMode
  autoActivate?: boolean
  description?: string
  /** The deployment's own CA (server.ts only). */
  builtin?: boolean
  /** Who registers it, for the event; default `admin`. */
  actor?: string
}

export interface CaServiceDeps {
  store: RegistryStore
  bus: StatusBus
  maxCas: number
  now: () => Date
  /** Where changes are recorded as events (item 4); absent in tests that do not look at events. */
  events?: AuditTrail
}

export class CaService {
  constructor (private readonly deps: CaServiceDeps) {}

  /**
   * Registers a CA certificate. Throws PEM_INVALID, CA_NOT_CA (not CA:TRUE, or keyUsage present
   * without keyCertSign), CA_DUPLICATE, CA_LIMIT_REACHED.
   */
  async register (input: RegisterCaInput): Promise<CaRecord> {
    const { der, pem } = parseCertificatePem(input.certificatePem, 'certificatePem')
    const facts = inspectCertificate(der)
    if (!facts.isCa || (facts.keyUsage !== null && !facts.keyUsage.includes('keyCertSign'))) {
      throw new CertmqError('CA_NOT_CA',
        `certificatePem: ${facts.subject} is not a CA certificate (needs basicConstraints CA:TRUE and keyUsage keyCertSign)`,
        { fingerprint: facts.fingerprint, isCa: facts.isCa, keyUsage: facts.keyUsage })
    }
    // X509Certificate also rejects what @peculiar/x509 might tolerate; the hot path uses it
    new X509Certificate(der) // eslint-disable-line no-new
    const now = this.deps.now().toISOString()
    const record: CaRecord = {
      id: facts.fingerprint,
      fingerprint: facts.fingerprint,
      subject: facts.subject,
      commonName: facts.commonName,
      serialNumber: facts.serialNumber,
      status: 'active',
      registrationMode: input.registrationMode,
      autoActivate: input.autoActivate ?? true,
      description: input.description ?? '',
      builtin: input.builtin ?? false,
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      certificatePem: pem,
      createdAt: now,
      updatedAt: now
    }
    const saved = await this.deps.store.insertCa(record, this.deps.maxCas)
    await this.deps.bus.publish({ kind: 'ca-set' })
    await this.deps.events?.recordChange(caRegistered(saved, input.actor ?? ACTOR_ADMIN))
    return saved
  }

  async list (): Promise<CaRecord[]> {
    return await this.deps.store.listCas()
  }

  /** Throws CA_NOT_FOUND. */
  async get (id: string): Promise<CaRecord> {
    const ca = await this.deps.store.getCa(normalizeId(id))
    if (ca === undefined) throw new CertmqError('CA_NOT_FOUND', `CA ${id} is not registered`, { id })
    return ca
  }

  /**
   * Throws CA_NOT_FOUND, CA_STATUS_CONFLICT. Deactivation drops every live session under the CA.
   * `actor` names who did it in the event.
   */
  async transition (id: string, action: CaAction, actor: string = ACTOR_ADMIN): Promise<CaRecord> {
    const rule = CA_TRANSITIONS[action]
    const ca = await this.deps.store.transitionCa(normalizeId(id), rule.allowedFrom, rule.to, this.deps.now().toISOString())
    await this.deps.bus.publish({ kind: 'ca', id: ca.id, status: ca.status })
    // when the compare-and-set allows a single status to move from, that is the one the CA had
    const from = rule.allowedFrom.length === 1 ? rule.allowedFrom[0] : undefined
    await this.deps.events?.recordChange(caChanged(`ca.${action}d`, ca, from, actor))
    return ca
  }

  /** Throws CA_NOT_FOUND, CA_BUILTIN, CA_HAS_ACTIVE_CERTIFICATES. `actor` names who did it in the event. */
  async delete (id: string, actor: string = ACTOR_ADMIN): Promise<CaRecord> {
    const ca = await this.deps.store.deleteCa(normalizeId(id))
    await this.deps.bus.publish({ kind: 'ca', id: ca.id, status: 'deleted' })
    await this.deps.events?.recordChange(caChanged('ca.deleted', ca, ca.status, actor))
    return ca
  }
}

/** Ids are SHA-256 fingerprints; accept upper case and colon-separated forms too. */
export function normalizeId (id: string): string {
  return id.replace(/:/g, '').toLowerCase()
}
