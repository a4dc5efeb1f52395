/**
 * PRODUCT §2 CA controls through the admin API (fastify inject()): the CA limit, real-CA checks,
 * proof of possession, SNI host binding and CRL import. Real services over the real embedded
 * store in a temp dir, the real LocalStatusBus, certificates and CRLs made by openssl.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../src/admin/app.js'
import { MAX_CRL_BYTES } from '../../src/admin/schemas/ca.js'
import { createLogger } from '../../src/log.js'
import { CaService } from '../../src/registry/ca-service.js'
import { CertificateService } from '../../src/registry/certificate-service.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LocalStatusBus } from '../../src/store/local-status-bus.js'
import type { StatusEvent } from '../../src/store/ports.js'
import { LogSink } from '../helpers/log-sink.js'
import { OpenSslPki, type OpenSslCa } from '../helpers/openssl.js'

const TOKEN = 'ca-controls-test-token-0123456789abcdef'

interface ErrorBody { error: { code: string; message: string; details: Record<string, unknown> } }
interface CrlState { thisUpdate: string | null; nextUpdate: string | null; revokedCount: number; importedAt: string | null; lastError?: { code: string; message: string; at: string } }
interface CaBody { id: string; hosts: string[]; crl?: CrlState; [key: string]: unknown }
interface CrlBody extends CrlState { caId: string; stale: boolean; crlPem?: string }

let pki: OpenSslPki
let dataDir: string
let store: EmbeddedRegistryStore
let bus: LocalStatusBus
let logs: LogSink
const events: StatusEvent[] = []
const apps: FastifyInstance[] = []
let app: FastifyInstance
let fleet: OpenSslCa
let fleetCa: CaBody

function makeApp (options: { maxCas?: number; requireProofOfPossession?: boolean } = {}): FastifyInstance {
  const now = (): Date => new Date()
  const made = buildAdminApp({
    caService: new CaService({ store, bus, maxCas: options.maxCas ?? 50, requireProofOfPossession: options.requireProofOfPossession ?? false, now }),
    certificateService: new CertificateService({ store, bus, now }),
    auth: { authenticate: (token: string) => (token === TOKEN ? { name: 'admin', role: 'admin' as const } : undefined) },
    health: () => ({ mqtts: true, admin: true }),
    logger: createLogger('debug', logs)
  })
  apps.push(made)
  return made
}

async function call<T = unknown> (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown,
  options: { app?: FastifyInstance; contentType?: string } = {}): Promise<{ status: number; body: T }> {
  const res = await (options.app ?? app).inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}`, ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }) },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> })
  })
  return { status: res.statusCode, body: (res.body === '' ? undefined : res.json()) as T }
}

async function registerCa (ca: OpenSslCa, extra: Record<string, unknown> = {}, on?: FastifyInstance): Promise<{ status: number; body: CaBody & ErrorBody }> {
  return await call<CaBody & ErrorBody>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'manual', ...extra }, { app: on ?? app })
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  dataDir = await mkdtemp(join(tmpdir(), 'certmq-ca-controls-'))
  store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
  await store.open()
  bus = new LocalStatusBus()
  bus.subscribe((event) => { events.push(event) })
  logs = new LogSink()
  app = makeApp()
  await app.ready()
  fleet = await pki.ca('fleet', { cn: 'Fleet CA', o: 'Example' })
  const res = await registerCa(fleet)
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  fleetCa = res.body
})

afterAll(async () => {
  for (const made of apps) await made.close()
  await store?.close()
  await bus?.close()
  await pki?.cleanup()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

describe('§2 what may be registered as a CA', () => {
  it('refuses a CA beyond cas.max with 409 CA_LIMIT_REACHED', async () => {
    const registered = (await call<{ items: CaBody[] }>('GET', '/api/v1/cas')).body.items.length
    const limited = makeApp({ maxCas: registered })
    const res = await registerCa(await pki.ca('one-too-many'), {}, limited)
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('CA_LIMIT_REACHED')
    expect(res.body.error.details).toMatchObject({ maxCas: registered, registered })
  })

  it('refuses a CA:TRUE certificate whose keyUsage lacks keyCertSign with 400 CA_NOT_CA', async () => {
    const notSigner = await pki.leaf('ca-no-certsign', fleet, { cn: 'CA without keyCertSign', ca: true, keyUsage: 'digitalSignature', eku: 'none' })
    const res = await call<ErrorBody>('POST', '/api/v1/cas', { certificatePem: notSigner.pem, registrationMode: 'manual' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CA_NOT_CA')
  })

  it('refuses a duplicate with 409 CA_DUPLICATE', async () => {
    const res = await registerCa(fleet)
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('CA_DUPLICATE')
  })
})

describe('§2 proof of possession', () => {
  let code: string

  beforeAll(async () => {
    const res = await call<{ registrationCode: string }>('GET', '/api/v1/cas/registration-code')
    expect(res.status).toBe(200)
    code = res.body.registrationCode
  })

  it('hands out one registration code per deployment, stable across calls and restarts of the service, not captured by /cas/:id', async () => {
    expect(code).toMatch(/^[0-9a-f]{48}$/)
    expect((await call<{ registrationCode: string }>('GET', '/api/v1/cas/registration-code')).body.registrationCode).toBe(code)
    const other = makeApp()
    expect((await call<{ registrationCode: string }>('GET', '/api/v1/cas/registration-code', undefined, { app: other })).body.registrationCode).toBe(code)
  })

  it('registers a CA with a verification certificate signed by its key whose CN is the code', async () => {
    const ca = await pki.ca('pop-ok')
    const verification = await pki.leaf('pop-ok-verify', ca, { cn: code })
    const res = await registerCa(ca, { verificationCertificatePem: verification.pem })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
  })

  it('refuses a verification certificate whose CN is not the code with 400 CA_VERIFICATION_FAILED', async () => {
    const ca = await pki.ca('pop-wrong-cn')
    const verification = await pki.leaf('pop-wrong-cn-verify', ca, { cn: 'not-the-code' })
    const res = await registerCa(ca, { verificationCertificatePem: verification.pem })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CA_VERIFICATION_FAILED')
    expect(res.body.error.message).toContain('CN')
    // nothing was registered
    expect((await call('GET', `/api/v1/cas/${createHash('sha256').update(new X509Certificate(ca.pem).raw).digest('hex')}`)).status).toBe(404)
  })

  it('refuses a verification certificate signed by another key with 400 CA_VERIFICATION_FAILED', async () => {
    const ca = await pki.ca('pop-wrong-key')
    const stranger = await pki.ca('pop-stranger', { cn: 'pop-wrong-key' })
    const verification = await pki.leaf('pop-wrong-key-verify', stranger, { cn: code })
    const res = await registerCa(ca, { verificationCertificatePem: verification.pem })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CA_VERIFICATION_FAILED')
    expect(res.body.error.message).toContain('not signed by the key')
  })

  it('with cas.requireProofOfPossession refuses a registration without one (400 CA_VERIFICATION_REQUIRED) and takes a valid one', async () => {
    const strict = makeApp({ requireProofOfPossession: true })
    const ca = await pki.ca('pop-required')
    const refused = await registerCa(ca, {}, strict)
    expect(refused.status).toBe(400)
    expect(refused.body.error.code).toBe('CA_VERIFICATION_REQUIRED')
    const verification = await pki.leaf('pop-required-verify', ca, { cn: code })
    expect((await registerCa(ca, { verificationCertificatePem: verification.pem }, strict)).status).toBe(201)
  })

  it('rotates the code; a verification certificate for the old code is then refused', async () => {
    const rotated = await call<{ registrationCode: string }>('POST', '/api/v1/cas/registration-code/rotate')
    expect(rotated.status).toBe(200)
    expect(rotated.body.registrationCode).not.toBe(code)
    const ca = await pki.ca('pop-old-code')
    const verification = await pki.leaf('pop-old-code-verify', ca, { cn: code })
    expect((await registerCa(ca, { verificationCertificatePem: verification.pem })).body.error.code).toBe('CA_VERIFICATION_FAILED')
    code = rotated.body.registrationCode
  })
})

describe('§2 changing a CA\'s settings (PATCH /api/v1/cas/:id)', () => {
  it('changes the registration mode, auto-activation and description, publishes the change and records what changed', async () => {
    const ca = (await registerCa(await pki.ca('patched', { cn: 'Patched CA' }), { registrationMode: 'auto', description: 'before' })).body
    const published = events.length
    const patched = await call<CaBody>('PATCH', `/api/v1/cas/${ca.id}`, { registrationMode: 'manual', autoActivate: false, description: 'after' })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    expect(patched.body).toMatchObject({ id: ca.id, registrationMode: 'manual', autoActivate: false, description: 'after', status: 'active' })
    expect(patched.body['updatedAt']).not.toBe(ca['updatedAt'])
    expect((await call<CaBody>('GET', `/api/v1/cas/${ca.id}`)).body).toEqual(patched.body)
    expect(events.slice(published)).toEqual([{ kind: 'ca-updated', id: ca.id }])
    expect(logs.events('ca.updated').at(-1)).toMatchObject({ caId: ca.id, registrationMode: 'manual', autoActivate: false })

    // one setting alone leaves the others; the same values again change nothing
    expect((await call<CaBody>('PATCH', `/api/v1/cas/${ca.id}`, { autoActivate: true })).body).toMatchObject({ registrationMode: 'manual', autoActivate: true, description: 'after' })
    const settled = events.length
    const same = await call<CaBody>('PATCH', `/api/v1/cas/${ca.id}`, { registrationMode: 'manual', description: 'after' })
    expect(same.status).toBe(200)
    expect(events.length).toBe(settled)
  })

  it('refuses an empty body, an unknown field, a bad mode and a field that is not a setting (400); an unknown CA is 404', async () => {
    const bad = [{}, { registrationMode: 'sometimes' }, { status: 'inactive' }, { autoActivate: 'yes' }, { hosts: [] }]
    for (const body of bad) {
      const res = await call<ErrorBody>('PATCH', `/api/v1/cas/${fleetCa.id}`, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('VALIDATION_FAILED')
    }
    const unknown = await call<ErrorBody>('PATCH', `/api/v1/cas/${'ab'.repeat(32)}`, { description: 'x' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('CA_NOT_FOUND')
  })
})

describe('§2 SNI host binding', () => {
  it('binds a CA to hosts (lowercased, deduplicated), shows them in GET …/hosts and in the CA record, and publishes the change', async () => {
    const put = await call<{ caId: string; hosts: string[] }>('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: ['Fleet-A.Example', 'fleet-b.example', 'fleet-a.example.'] })
    expect(put.status, JSON.stringify(put.body)).toBe(200)
    expect(put.body).toEqual({ caId: fleetCa.id, hosts: ['fleet-a.example', 'fleet-b.example'] })
    expect((await call('GET', `/api/v1/cas/${fleetCa.id}/hosts`)).body).toEqual({ caId: fleetCa.id, hosts: ['fleet-a.example', 'fleet-b.example'] })
    expect((await call<CaBody>('GET', `/api/v1/cas/${fleetCa.id}`)).body.hosts).toEqual(['fleet-a.example', 'fleet-b.example'])
    expect(events).toContainEqual({ kind: 'ca-updated', id: fleetCa.id })
    expect(logs.events('ca.hosts_changed').at(-1)).toMatchObject({ caId: fleetCa.id, hosts: ['fleet-a.example', 'fleet-b.example'] })
  })

  it('changes nothing when PUT repeats the binding (in any order or case): no write, no publish, no log line', async () => {
    const before = (await call<CaBody>('GET', `/api/v1/cas/${fleetCa.id}`)).body
    expect(before.hosts).toEqual(['fleet-a.example', 'fleet-b.example'])
    const published = events.length
    const logged = logs.events('ca.hosts_changed').length
    const put = await call<{ caId: string; hosts: string[] }>('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: ['FLEET-B.example', 'fleet-a.example.'] })
    expect(put.status, JSON.stringify(put.body)).toBe(200)
    expect(put.body).toEqual({ caId: fleetCa.id, hosts: ['fleet-a.example', 'fleet-b.example'] })
    expect((await call<CaBody>('GET', `/api/v1/cas/${fleetCa.id}`)).body).toEqual(before)
    expect(events.length).toBe(published)
    expect(logs.events('ca.hosts_changed')).toHaveLength(logged)
  })

  it('unbinds with an empty list; a new CA starts unbound, or bound when registered with hosts', async () => {
    expect((await call<{ hosts: string[] }>('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: [] })).body.hosts).toEqual([])
    const ca = await pki.ca('bound-at-birth')
    const res = await registerCa(ca, { hosts: ['Plant-7.Example'] })
    expect(res.status).toBe(201)
    expect(res.body.hosts).toEqual(['plant-7.example'])
  })

  it('answers 400 VALIDATION_FAILED naming the index of a bad hostname', async () => {
    for (const bad of ['under_score.example', '10.0.0.1', '*.example', '', 'a..b']) {
      const res = await call<ErrorBody>('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: ['ok.example', bad] })
      expect(res.status, bad).toBe(400)
      expect(res.body.error.code).toBe('VALIDATION_FAILED')
      expect(res.body.error.message, bad).toContain('body/hosts/1')
    }
  })

  it('answers 400 for more than 50 hostnames, a missing list and a non-string; 404 CA_NOT_FOUND for an unknown CA', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `h${i}.example`)
    const tooMany = await call<ErrorBody>('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: many })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error.message).toContain('body/hosts')
    expect((await call('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: many.slice(0, 50) })).status).toBe(200)
    expect((await call<ErrorBody>('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, {})).body.error.message).toBe('body/hosts is required')
    expect((await call('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: [42] })).status).toBe(400)
    expect((await call<ErrorBody>('PUT', `/api/v1/cas/${'0'.repeat(64)}/hosts`, { hosts: [] })).body.error.code).toBe('CA_NOT_FOUND')
    await call('PUT', `/api/v1/cas/${fleetCa.id}/hosts`, { hosts: [] })
  })
})

describe('§2 CRL import', () => {
  let crlCa: OpenSslCa
  let crlCaId: string

  beforeAll(async () => {
    crlCa = await pki.ca('crl-ca', { cn: 'CRL CA', o: 'Example' })
    crlCaId = (await registerCa(crlCa)).body.id
  })

  it('answers 404 CRL_NOT_FOUND before any import', async () => {
    const res = await call<ErrorBody>('GET', `/api/v1/cas/${crlCaId}/crl`)
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('CRL_NOT_FOUND')
  })

  it('imports a PEM CRL signed by the CA and records its state on the CA', async () => {
    const devices = await Promise.all([1, 2].map(async (n) => await pki.leaf(`crl-dev-${n}`, crlCa, { cn: `crl-dev-${n}` })))
    const crl = await pki.crl('crl-1', crlCa, { revoked: devices, lastUpdate: new Date(Date.now() - 60_000) })
    const res = await call<CrlBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: crl.pem })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toMatchObject({ caId: crlCaId, revokedCount: 2, stale: false })
    expect(res.body.lastError).toBeUndefined()
    const ca = (await call<CaBody>('GET', `/api/v1/cas/${crlCaId}`)).body
    expect(ca.crl).toMatchObject({ revokedCount: 2, thisUpdate: res.body.thisUpdate, nextUpdate: res.body.nextUpdate, importedAt: res.body.importedAt })
    expect(events).toContainEqual({ kind: 'ca-updated', id: crlCaId })
    expect((await store.getCrl(crlCaId))?.serials.sort()).toEqual(devices.map((d) => new X509Certificate(d.pem).serialNumber).sort())
  })

  it('imports a DER CRL sent as application/pkix-crl, replacing the previous one', async () => {
    const device = await pki.leaf('crl-dev-der', crlCa, { cn: 'crl-dev-der' })
    const crl = await pki.crl('crl-der', crlCa, { revoked: [device] })
    const res = await call<CrlBody>('POST', `/api/v1/cas/${crlCaId}/crl`, crl.der, { contentType: 'application/pkix-crl' })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.revokedCount).toBe(1)
    const shown = await call<CrlBody>('GET', `/api/v1/cas/${crlCaId}/crl?includePem=true`)
    expect(shown.body).toMatchObject({ caId: crlCaId, revokedCount: 1, stale: false })
    expect(shown.body.crlPem).toBe(crl.pem.replace(/\r\n/g, '\n'))
    expect((await call<CrlBody>('GET', `/api/v1/cas/${crlCaId}/crl`)).body.crlPem).toBeUndefined()
  })

  it('refuses a CRL signed by another key with 400 CRL_INVALID, keeps the previous CRL in force and says so on the CA', async () => {
    const before = (await store.getCrl(crlCaId))?.serials
    const impostor = await pki.ca('crl-impostor', { cn: 'CRL CA', o: 'Example' })
    const forged = await pki.crl('crl-forged', impostor, { revoked: [] })
    const res = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: forged.pem })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CRL_INVALID')
    expect(res.body.error.message).toMatch(/^crlPem: .*signature/)
    expect(res.body.error.details).toMatchObject({ where: 'crlPem' })
    expect((await store.getCrl(crlCaId))?.serials).toEqual(before)
    const ca = (await call<CaBody>('GET', `/api/v1/cas/${crlCaId}`)).body
    expect(ca.crl).toMatchObject({ revokedCount: 1, lastError: { code: 'CRL_INVALID' } })
    expect(logs.events('crl.refused').at(-1)).toMatchObject({ code: 'CRL_INVALID' })
  })

  it('refuses a CRL issued by another CA, garbage and the wrong PEM block with 400 CRL_INVALID', async () => {
    const other = await pki.ca('crl-other')
    const foreign = await pki.crl('crl-foreign', other, {})
    const wrongIssuer = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: foreign.pem })
    expect(wrongIssuer.body.error).toMatchObject({ code: 'CRL_INVALID' })
    expect(wrongIssuer.body.error.message).toContain('not by the CA')
    const garbage = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, Buffer.from('not a crl'), { contentType: 'application/pkix-crl' })
    expect(garbage.status).toBe(400)
    expect(garbage.body.error.code).toBe('CRL_INVALID')
    // a DER body has no field name: the error names the body
    expect(garbage.body.error.message).toMatch(/^body: /)
    const certificate = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: crlCa.pem })
    expect(certificate.body.error.code).toBe('CRL_INVALID')
    expect(certificate.body.error.message).toMatch(/^crlPem: .*X509 CRL/)
    // the refusal is logged and kept on the CA: neither may read like a PEM block
    expect(JSON.stringify(logs.events('crl.refused').at(-1))).not.toContain('-----BEGIN')
    expect(JSON.stringify((await call<CaBody>('GET', `/api/v1/cas/${crlCaId}`)).body.crl)).not.toContain('-----BEGIN')
  })

  it('answers a DER CRL over 10 MiB with 413 PAYLOAD_TOO_LARGE, as a larger body and every other route do', async () => {
    // up to the route's body limit (sized for a PEM of 10 MiB) it was 400 VALIDATION_FAILED, beyond it 413
    for (const bytes of [MAX_CRL_BYTES + 1, 12 * 1024 * 1024]) {
      const res = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, Buffer.alloc(bytes), { contentType: 'application/pkix-crl' })
      expect(res.status, `${bytes} bytes: ${JSON.stringify(res.body)}`).toBe(413)
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE')
    }
  })

  it('refuses a stale CRL (nextUpdate passed) and one older than the CRL in force with 400 CRL_STALE', async () => {
    const stale = await pki.crl('crl-stale', crlCa, { lastUpdate: new Date(Date.now() - 10 * 86_400_000), nextUpdate: new Date(Date.now() - 86_400_000) })
    const res = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: stale.pem })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CRL_STALE')
    expect(res.body.error.message).toMatch(/^crlPem: /)
    const older = await pki.crl('crl-older', crlCa, { lastUpdate: new Date(Date.now() - 86_400_000) })
    const refused = await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: older.pem })
    expect(refused.body.error.code).toBe('CRL_STALE')
    expect(refused.body.error.message).toContain('older than the CRL in force')
    expect((await call<CaBody>('GET', `/api/v1/cas/${crlCaId}`)).body.crl).toMatchObject({ revokedCount: 1, lastError: { code: 'CRL_STALE' } })
  })

  it('refuses a CRL dated in the future with 400 CRL_INVALID; a later good import clears lastError', async () => {
    const future = await pki.crl('crl-future', crlCa, { lastUpdate: new Date(Date.now() + 86_400_000) })
    expect((await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: future.pem })).body.error.code).toBe('CRL_INVALID')
    const good = await pki.crl('crl-good', crlCa, {})
    expect((await call('POST', `/api/v1/cas/${crlCaId}/crl`, { crlPem: good.pem })).status).toBe(200)
    const ca = (await call<CaBody>('GET', `/api/v1/cas/${crlCaId}`)).body
    expect(ca.crl?.revokedCount).toBe(0)
    expect(ca.crl?.lastError).toBeUndefined()
  })

  it('answers 400 for a JSON body without crlPem, 404 CA_NOT_FOUND for an unknown CA', async () => {
    expect((await call<ErrorBody>('POST', `/api/v1/cas/${crlCaId}/crl`, { pem: 'x' })).status).toBe(400)
    const crl = await pki.crl('crl-nowhere', crlCa, {})
    expect((await call<ErrorBody>('POST', `/api/v1/cas/${'0'.repeat(64)}/crl`, { crlPem: crl.pem })).body.error.code).toBe('CA_NOT_FOUND')
  })
})

describe('§2 CRL import: algorithms and scope', () => {
  let rsaCa: OpenSslCa
  let rsaCaId: string

  beforeAll(async () => {
    rsaCa = await pki.ca('crl-rsa-ca', { cn: 'CRL RSA CA', key: 'rsa2048' })
    rsaCaId = (await registerCa(rsaCa)).body.id
  })

  it('accepts a CRL signed with another digest than the CA certificate (SHA-512 CRL, SHA-256 CA)', async () => {
    const device = await pki.leaf('crl-rsa-dev', rsaCa, { cn: 'crl-rsa-dev' })
    const crl = await pki.crl('crl-sha512', rsaCa, { revoked: [device], md: 'sha512', lastUpdate: new Date(Date.now() - 120_000) })
    const res = await call<CrlBody>('POST', `/api/v1/cas/${rsaCaId}/crl`, { crlPem: crl.pem })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.revokedCount).toBe(1)
  })

  it('refuses a delta CRL and one limited to CA certificates: either would un-revoke what it leaves out', async () => {
    const delta = await pki.crl('crl-delta', rsaCa, { extensions: ['2.5.29.27 = critical, DER:02:02:03:E8'] })
    const deltaRes = await call<ErrorBody>('POST', `/api/v1/cas/${rsaCaId}/crl`, { crlPem: delta.pem })
    expect(deltaRes.status).toBe(400)
    expect(deltaRes.body.error).toMatchObject({ code: 'CRL_INVALID' })
    expect(deltaRes.body.error.message).toContain('delta CRL')
    const onlyCa = await pki.crl('crl-only-ca', rsaCa, { extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'onlyCA = TRUE'] })
    const onlyCaRes = await call<ErrorBody>('POST', `/api/v1/cas/${rsaCaId}/crl`, { crlPem: onlyCa.pem })
    expect(onlyCaRes.body.error).toMatchObject({ code: 'CRL_INVALID' })
    expect(onlyCaRes.body.error.message).toContain('issuing distribution point')
    // the CRL in force is still the SHA-512 one
    expect((await store.getCrl(rsaCaId))?.serials).toHaveLength(1)
  })

  it('refuses a CRL whose issuing distribution point covers end-entity certificates only: it would readmit revoked intermediates', async () => {
    const userOnly = await pki.crl('crl-only-user', rsaCa, { extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'onlyuser = TRUE'] })
    const res = await call<ErrorBody>('POST', `/api/v1/cas/${rsaCaId}/crl`, { crlPem: userOnly.pem })
    expect(res.status, JSON.stringify(res.body)).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'CRL_INVALID' })
    expect((await store.getCrl(rsaCaId))?.serials).toHaveLength(1)
  })

  it('accepts a complete CRL that names its distribution point', async () => {
    const named = await pki.crl('crl-named-dp', rsaCa, { extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'fullname = URI:http://crl.example/root.crl'] })
    const res = await call<CrlBody>('POST', `/api/v1/cas/${rsaCaId}/crl`, { crlPem: named.pem })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.revokedCount).toBe(0)
  })
})
