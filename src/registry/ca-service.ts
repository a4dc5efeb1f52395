/**
 * Operator use cases for CA certificates (PRODUCT §2): register (with optional proof of
 * possession), list, get, activate, deactivate, delete, bind to listener hostnames, import a CRL.
 * Rules come from the domain; atomic checks live in the store.
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import { CertmqError, isCertmqError } from '../errors.js'
import type { CaCrlState, CaRecord, CaSettings, RegistrationMode } from '../domain/ca.js'
import { normalizeId } from '../domain/certificate.js'
import { normalizeHosts } from '../domain/ca-hosts.js'
import { checkCrlDates } from '../domain/crl.js'
import { CA_TRANSITIONS, type CaAction } from '../domain/lifecycle.js'
import { derToPem, parseCertificatePem } from '../pki/pem.js'
import { inspectCertificate } from '../pki/inspect.js'
import { unsupportedExtension } from '../pki/path-constraints.js'
import { parseCrl, verifyCrlIssuer } from '../pki/crl.js'
import { verifyPossession } from '../pki/proof-of-possession.js'
import type { RegistryStore, StatusBus } from '../store/ports.js'
import { ACTOR_ADMIN } from '../domain/event.js'
import type { AuditTrail } from '../events/audit-trail.js'
import {
  caChanged, caCrlImported, caCrlRefused, caDeleted, caHostsChanged, caRegistered, caUpdated, certificateChanged, registrationCodeRotated
} from '../events/change-events.js'

/** Store meta key of the deployment's registration code (proof of possession). */
const REGISTRATION_CODE_KEY = 'ca.registrationCode'

export interface RegisterCaInput {
  certificatePem: string
  registrationMode: RegistrationMode
  autoActivate?: boolean
  description?: string
  /** Listener hostnames (TLS SNI) to bind the CA to; validated and normalized. */
  hosts?: string[]
  /** Proof of possession: signed by the CA key, subject CN = the registration code. */
  verificationCertificatePem?: string
  /** The deployment's own CA (server.ts only). */
  builtin?: boolean
  /** Who registers it, for the event; default `admin`. */
  actor?: string
}

export interface CaServiceDeps {
  store: RegistryStore
  bus: StatusBus
  maxCas: number
  /** Config cas.requireProofOfPossession: refuse registrations without a verification certificate. */
  requireProofOfPossession?: boolean
  now: () => Date
  /** Where changes are recorded as events (item 4); absent in tests that do not look at events. */
  events?: AuditTrail
}

/** The CRL state of a CA as the API shows it. */
export interface CrlView extends CaCrlState {
  caId: string
  /** nextUpdate has passed since the import: the CRL is still enforced, but a newer one is due. */
  stale: boolean
  crlPem?: string
}

export class CaService {
  private registrationCodeLoad: Promise<string> | undefined

  constructor (private readonly deps: CaServiceDeps) {}

  /**
   * Registers a CA certificate. Throws PEM_INVALID, CA_NOT_CA (not CA:TRUE, or keyUsage present
   * without keyCertSign), CA_UNSUPPORTED (name constraints…), CA_EXPIRED, VALIDATION_FAILED (hosts), CA_VERIFICATION_REQUIRED,
   * CA_VERIFICATION_FAILED, CA_DUPLICATE, CA_LIMIT_REACHED.
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
    const unsupported = unsupportedExtension(der)
    if (unsupported !== undefined) {
      throw new CertmqError('CA_UNSUPPORTED', `certificatePem: ${facts.subject} cannot be trusted by certmq: ${unsupported}, so every device under it would be refused`,
        { fingerprint: facts.fingerprint })
    }
    // the built-in CA is registered at every start: its expiry is reported, not a reason to fail the start
    if (input.builtin !== true && Date.parse(facts.notAfter) < this.deps.now().getTime()) {
      throw new CertmqError('CA_EXPIRED', `certificatePem: ${facts.subject} expired on ${facts.notAfter}; no device under it could connect`,
        { fingerprint: facts.fingerprint, notAfter: facts.notAfter })
    }
    const hosts = normalizeHosts(input.hosts ?? [])
    if (input.builtin !== true) await this.checkPossession(der, input.verificationCertificatePem)
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
      hosts,
      createdAt: now,
      updatedAt: now
    }
    const saved = await this.deps.store.insertCa(record, this.deps.maxCas)
    await this.deps.bus.publish({ kind: 'ca-set' })
    await this.deps.events?.recordChange(caRegistered(saved, input.actor ?? ACTOR_ADMIN))
    return saved
  }

  /** PRODUCT §2 proof of possession; required only when the config says so. */
  private async checkPossession (caDer: Buffer, verificationPem: string | undefined): Promise<void> {
    if (verificationPem === undefined) {
      if (this.deps.requireProofOfPossession !== true) return
      throw new CertmqError('CA_VERIFICATION_REQUIRED',
        'verificationCertificatePem is required: sign a certificate with the CA key whose subject CN is the registration code (GET /api/v1/cas/registration-code)',
        { field: 'verificationCertificatePem' })
    }
    verifyPossession(caDer, verificationPem, await this.registrationCode(), this.deps.now().getTime())
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

  /**
   * The deployment's registration code (proof of possession), created on first use and kept in
   * the store until rotated.
   */
  async registrationCode (): Promise<string> {
    this.registrationCodeLoad ??= (async () => {
      const stored = await this.deps.store.getMeta(REGISTRATION_CODE_KEY)
      if (stored !== undefined) return stored
      const code = newRegistrationCode()
      await this.deps.store.setMeta(REGISTRATION_CODE_KEY, code)
      return code
    })()
    try {
      return await this.registrationCodeLoad
    } catch (err) {
      this.registrationCodeLoad = undefined
      throw err
    }
  }

  /** Replaces the registration code; verification certificates made for the old one stop working. */
  async rotateRegistrationCode (actor: string = ACTOR_ADMIN): Promise<string> {
    const code = newRegistrationCode()
    await this.deps.store.setMeta(REGISTRATION_CODE_KEY, code)
    this.registrationCodeLoad = Promise.resolve(code)
    // who rotated it and when, never the code: verification certificates made before no longer prove anything
    await this.deps.events?.recordChange(registrationCodeRotated(actor))
    return code
  }

  /**
   * Binds a CA to listener hostnames (replacing its binding; [] unbinds). New connections see it
   * at once; live sessions on a name no longer bound are dropped. The same names as now (in any
   * order) change nothing: no write, no event, `changed` false. Throws VALIDATION_FAILED, CA_NOT_FOUND.
   */
  async setHosts (id: string, hosts: string[], actor: string = ACTOR_ADMIN): Promise<{ ca: CaRecord, changed: boolean }> {
    const normalized = normalizeHosts(hosts)
    const current = await this.get(id)
    // a binding is a set of names: a PUT that repeats it (a config sync) is not a change to record
    if (normalized.length === current.hosts.length && normalized.every((host) => current.hosts.includes(host))) {
      return { ca: current, changed: false }
    }
    const ca = await this.deps.store.setCaHosts(normalizeId(id), normalized, this.deps.now().toISOString())
    await this.deps.bus.publish({ kind: 'ca-updated', id: ca.id })
    await this.deps.events?.recordChange(caHostsChanged(ca, current.hosts, actor))
    return { ca, changed: true }
  }

  /**
   * Changes a CA's registration mode, auto-activation or description (PATCH /api/v1/cas/:id), as
   * AWS IoT's update-ca-certificate does: e.g. stop automatic registration under a CA that is being
   * flooded without deactivating it, which would drop every device under it. Live sessions stay;
   * the next CONNECT of an unregistered device follows the new mode. Settings equal to the
   * current ones change nothing and record nothing. Throws CA_NOT_FOUND.
   */
  async update (id: string, settings: CaSettings, actor: string = ACTOR_ADMIN): Promise<{ ca: CaRecord, changed: boolean }> {
    const current = await this.get(id)
    const changes: CaSettings = {}
    if (settings.registrationMode !== undefined && settings.registrationMode !== current.registrationMode) changes.registrationMode = settings.registrationMode
    if (settings.autoActivate !== undefined && settings.autoActivate !== current.autoActivate) changes.autoActivate = settings.autoActivate
    if (settings.description !== undefined && settings.description !== current.description) changes.description = settings.description
    const keys = Object.keys(changes) as Array<keyof CaSettings>
    if (keys.length === 0) return { ca: current, changed: false }
    const ca = await this.deps.store.updateCaSettings(current.id, changes, this.deps.now().toISOString())
    await this.deps.bus.publish({ kind: 'ca-updated', id: ca.id })
    const before = Object.fromEntries(keys.map((key) => [key, current[key]]))
    await this.deps.events?.recordChange(caUpdated(ca, before, { ...changes }, actor))
    return { ca, changed: true }
  }

  /**
   * Imports a CRL (PEM text or DER bytes) for a CA: it must be issued and signed by the CA, not
   * dated in the future, not stale, not older than the one in force. On success its serials are
   * rejected at CONNECT and live sessions using them are dropped; on refusal the CRL in force
   * stays and the CA's crl.lastError says why. Throws CA_NOT_FOUND, CRL_INVALID, CRL_STALE.
   */
  async importCrl (id: string, body: string | Buffer, actor: string = ACTOR_ADMIN): Promise<CrlView> {
    const ca = await this.get(id)
    const now = this.deps.now()
    // errors name what the request sent: the JSON field, or the DER body itself
    const where = typeof body === 'string' ? 'crlPem' : 'body'
    try {
      const parsed = parseCrl(body, where)
      await verifyCrlIssuer(parsed, ca.certificatePem, where)
      const problem = checkCrlDates(parsed, now.getTime(), ca.crl)
      if (problem !== undefined) throw new CertmqError(problem.code, `${where}: ${problem.message}`, { caId: ca.id, where })
      const serials = [...new Set(parsed.serials)]
      const updated = await this.deps.store.replaceCrl(ca.id, { der: parsed.der, serials }, {
        thisUpdate: parsed.thisUpdate.toISOString(),
        nextUpdate: parsed.nextUpdate?.toISOString() ?? null,
        revokedCount: serials.length,
        importedAt: now.toISOString()
      })
      await this.deps.bus.publish({ kind: 'ca-updated', id: ca.id })
      await this.deps.events?.recordChange(caCrlImported(updated, actor))
      return crlView(updated, now, undefined)
    } catch (err) {
      if (isCertmqError(err, 'CRL_INVALID') || isCertmqError(err, 'CRL_STALE')) {
        // the refusal is the answer; failing to note it on the CA must not replace it
        await this.deps.store.recordCrlError(ca.id, { code: err.code, message: err.message, at: now.toISOString() }).catch(() => {})
        await this.deps.events?.recordChange(caCrlRefused(ca, err.code, err.message, actor))
      }
      throw err
    }
  }

  /** The CRL state of a CA, with the CRL in force as PEM when asked. Throws CA_NOT_FOUND, CRL_NOT_FOUND. */
  async getCrl (id: string, includePem: boolean): Promise<CrlView> {
    const ca = await this.get(id)
    if (ca.crl === undefined) throw new CertmqError('CRL_NOT_FOUND', `CA ${ca.id} has no CRL: none was imported`, { id: ca.id })
    const stored = includePem ? await this.deps.store.getCrl(ca.id) : undefined
    return crlView(ca, this.deps.now(), stored === undefined ? undefined : derToPem(stored.der, 'X509 CRL'))
  }

  /**
   * Deletes a CA with its certificates, none of which may be active. Each certificate deleted with
   * it gets its certificate.deleted event (same actor), so its history does not just stop; the
   * ca.deleted event counts them. Throws CA_NOT_FOUND, CA_BUILTIN, CA_HAS_ACTIVE_CERTIFICATES.
   */
  async delete (id: string, actor: string = ACTOR_ADMIN): Promise<CaRecord> {
    const { ca, certificates } = await this.deps.store.deleteCa(normalizeId(id))
    await this.deps.bus.publish({ kind: 'ca', id: ca.id, status: 'deleted' })
    // each certificate deleted with it is deleted for the bus too: its persistent session goes with
    // it (session-owners.ts), or the next certificate given its freed Client ID would resume it
    for (const cert of certificates) await this.deps.bus.publish({ kind: 'certificate', id: cert.id, status: 'deleted' })
    await this.deps.events?.recordChanges([
      ...certificates.map((cert) => certificateChanged('certificate.deleted', cert, cert.status, actor)),
      caDeleted(ca, certificates.length, actor)
    ])
    return ca
  }
}

/** 24 random bytes as 48 hex digits: fits a subject CN (at most 64 characters, RFC 5280). */
function newRegistrationCode (): string {
  return randomBytes(24).toString('hex')
}

function crlView (ca: CaRecord, now: Date, crlPem: string | undefined): CrlView {
  const state = ca.crl ?? { thisUpdate: null, nextUpdate: null, revokedCount: 0, importedAt: null }
  const stale = state.nextUpdate !== null && Date.parse(state.nextUpdate) < now.getTime()
  return { caId: ca.id, ...state, stale, ...(crlPem === undefined ? {} : { crlPem }) }
}
