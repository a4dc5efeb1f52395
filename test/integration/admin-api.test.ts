/**
 * The admin HTTP API (PRODUCT §2, §3, §5) through fastify inject(): real services over the real
 * embedded store in a temp dir, the real LocalStatusBus, certificates made by openssl.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../src/admin/app.js'
import { AdminTokens } from '../../src/admin/admin-tokens.js'
import { createLogger } from '../../src/log.js'
import { CaService } from '../../src/registry/ca-service.js'
import { CertificateService } from '../../src/registry/certificate-service.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LocalStatusBus } from '../../src/store/local-status-bus.js'
import type { RegistryStore, StatusEvent } from '../../src/store/ports.js'
import { LogSink } from '../helpers/log-sink.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa, type OpenSslCert } from '../helpers/openssl.js'

const TOKEN = 'admin-api-test-token-0123456789abcdef'

interface ErrorBody { error: { code: string; message: string; details: Record<string, unknown>; requestId: string } }
interface CaBody { id: string; fingerprint: string; status: string; registrationMode: string; autoActivate: boolean; [key: string]: unknown }
interface CertBody { id: string; status: string; clientId: string | null; commonName: string; [key: string]: unknown }
interface Page { items: CertBody[]; nextCursor: string | null }

let pki: OpenSslPki
let dataDir: string
let store: EmbeddedRegistryStore
let bus: LocalStatusBus
let app: FastifyInstance
let logs: LogSink
const listeners = { mqtts: true, admin: true }
const events: StatusEvent[] = []
let fleet: OpenSslCa
let other: OpenSslCa
let fleetCa: CaBody

async function call<T = unknown> (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}):
  Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const res = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> })
  })
  return { status: res.statusCode, body: (res.body === '' ? undefined : res.json()) as T, headers: res.headers }
}

function makeApp (services: { store: RegistryStore }): FastifyInstance {
  const now = (): Date => new Date()
  return buildAdminApp({
    caService: new CaService({ store: services.store, bus, maxCas: 50, now }),
    certificateService: new CertificateService({ store: services.store, bus, now }),
    auth: tokens,
    health: () => ({ ...listeners }),
    logger: createLogger('debug', logs)
  })
}

let tokens: AdminTokens
let leafCount = 0
async function leaf (issuer: OpenSslCa, opts: { cn?: string; ou?: string } = {}): Promise<OpenSslCert> {
  leafCount++
  return await pki.leaf(`leaf-${leafCount}`, issuer, { cn: opts.cn ?? `device-${leafCount}`, ...(opts.ou === undefined ? {} : { ou: opts.ou }) })
}

async function registerCert (cert: OpenSslCert, extra: Record<string, unknown> = {}): Promise<CertBody> {
  const res = await call<CertBody>('POST', '/api/v1/certificates', { caId: fleetCa.id, certificatePem: cert.pem, ...extra })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  dataDir = await mkdtemp(join(tmpdir(), 'certmq-admin-api-'))
  store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
  await store.open()
  bus = new LocalStatusBus()
  bus.subscribe((event) => { events.push(event) })
  logs = new LogSink()
  tokens = await AdminTokens.load(store, TOKEN, () => new Date())
  app = makeApp({ store })
  await app.ready()
  fleet = await pki.ca('fleet')
  other = await pki.ca('other')
  const res = await call<CaBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual', description: 'fleet CA' })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  fleetCa = res.body
})

afterAll(async () => {
  await app?.close()
  await store?.close()
  await bus?.close()
  await pki?.cleanup()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

describe('§5 bearer-token auth on /api/v1', () => {
  it('answers 401 UNAUTHORIZED with WWW-Authenticate: Bearer when the Authorization header is missing', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/cas' })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer')
    expect(res.json<ErrorBody>().error.code).toBe('UNAUTHORIZED')
  })

  it('answers 401 UNAUTHORIZED for a malformed header and for a wrong token', async () => {
    const malformed = await call<ErrorBody>('GET', '/api/v1/cas', undefined, { authorization: `Basic ${TOKEN}` })
    expect(malformed.status).toBe(401)
    expect(malformed.headers['www-authenticate']).toBe('Bearer')
    expect(malformed.body.error.code).toBe('UNAUTHORIZED')
    const wrong = await call<ErrorBody>('GET', '/api/v1/certificates', undefined, { authorization: 'Bearer not-the-token' })
    expect(wrong.status).toBe(401)
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
    expect(wrong.body.error.code).toBe('UNAUTHORIZED')
  })

  it('keeps /healthz open: 200 with both listeners up, 503 with the same shape when one is down', async () => {
    const up = await app.inject({ method: 'GET', url: '/healthz' })
    expect(up.statusCode).toBe(200)
    expect(up.json()).toEqual({ status: 'ok', mqtts: true, admin: true })
    listeners.mqtts = false
    try {
      const down = await app.inject({ method: 'GET', url: '/healthz' })
      expect(down.statusCode).toBe(503)
      expect(down.json()).toEqual({ status: 'unavailable', mqtts: false, admin: true })
    } finally {
      listeners.mqtts = true
    }
  })
})

describe('§2 CA certificates', () => {
  it('registers a CA with 201 and returns its record without any private key', async () => {
    const ca = await pki.ca('register-me', { cn: 'Register Me CA' })
    const res = await call<CaBody>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto', autoActivate: false })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      id: fingerprintOf(ca.pem),
      fingerprint: fingerprintOf(ca.pem),
      status: 'active',
      registrationMode: 'auto',
      autoActivate: false,
      commonName: 'Register Me CA',
      description: '',
      builtin: false
    })
    for (const key of ['subject', 'serialNumber', 'notBefore', 'notAfter', 'certificatePem', 'createdAt', 'updatedAt']) {
      expect(res.body, key).toHaveProperty(key)
    }
    expect(JSON.stringify(res.body)).not.toMatch(/PRIVATE KEY|privateKey/)
    // autoActivate defaults to true
    expect(fleetCa.autoActivate).toBe(true)
  })

  it('refuses the same CA twice with 409 CA_DUPLICATE', async () => {
    const res = await call<ErrorBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual' })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('CA_DUPLICATE')
  })

  it('refuses a certificate that is not a CA with 400 CA_NOT_CA', async () => {
    const device = await leaf(fleet)
    const res = await call<ErrorBody>('POST', '/api/v1/cas', { certificatePem: device.pem, registrationMode: 'manual' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CA_NOT_CA')
  })

  it('refuses malformed PEM with 400 PEM_INVALID naming the field', async () => {
    const res = await call<ErrorBody>('POST', '/api/v1/cas', {
      certificatePem: '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n', registrationMode: 'manual'
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('PEM_INVALID')
    expect(res.body.error.message).toContain('certificatePem')
  })

  it('answers 400 VALIDATION_FAILED naming body/registrationMode when it is not auto or manual', async () => {
    const res = await call<ErrorBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'sometimes' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
    expect(res.body.error.message).toContain('body/registrationMode must be equal to one of the allowed values')
    expect(res.body.error.details).toMatchObject({ location: 'body', field: 'registrationMode' })
  })

  it('answers 400 VALIDATION_FAILED for a missing field, an unknown field and a body that is not JSON', async () => {
    const missing = await call<ErrorBody>('POST', '/api/v1/cas', { registrationMode: 'auto' })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe('body/certificatePem is required')
    const unknown = await call<ErrorBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'auto', autoActivat: false })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toContain('body/autoActivat')
    const notJson = await call<ErrorBody>('POST', '/api/v1/cas', '{"certificatePem": ', { 'content-type': 'application/json' })
    expect(notJson.status).toBe(400)
    expect(notJson.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body is not valid JSON' })
  })

  it('lists, shows, deactivates and activates a CA; a repeated deactivate is 409 CA_STATUS_CONFLICT', async () => {
    const list = await call<{ items: CaBody[] }>('GET', '/api/v1/cas')
    expect(list.status).toBe(200)
    expect(list.body.items.map((ca) => ca.id)).toContain(fleetCa.id)
    // ids are accepted in upper case too
    const shown = await call<CaBody>('GET', `/api/v1/cas/${fleetCa.id.toUpperCase()}`)
    expect(shown.body).toMatchObject({ id: fleetCa.id, description: 'fleet CA' })
    const ca = await pki.ca('toggle')
    const created = await call<CaBody>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'manual' })
    expect((await call<CaBody>('POST', `/api/v1/cas/${created.body.id}/deactivate`)).body.status).toBe('inactive')
    expect(events).toContainEqual({ kind: 'ca', id: created.body.id, status: 'inactive' })
    const again = await call<ErrorBody>('POST', `/api/v1/cas/${created.body.id}/deactivate`)
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('CA_STATUS_CONFLICT')
    expect((await call<CaBody>('POST', `/api/v1/cas/${created.body.id}/activate`)).body.status).toBe('active')
  })

  it('refuses to delete a CA with an active certificate (409), deletes it otherwise (200 with the record), then 404 CA_NOT_FOUND', async () => {
    const ca = await pki.ca('deletable')
    const created = await call<CaBody>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'manual' })
    const device = await pki.leaf('deletable-dev', ca, { cn: 'deletable-dev' })
    const cert = await call<CertBody>('POST', '/api/v1/certificates', { caId: created.body.id, certificatePem: device.pem })
    expect(cert.status).toBe(201)
    const refused = await call<ErrorBody>('DELETE', `/api/v1/cas/${created.body.id}`)
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('CA_HAS_ACTIVE_CERTIFICATES')
    await call('POST', `/api/v1/certificates/${cert.body.id}/deactivate`)
    const deleted = await call<CaBody>('DELETE', `/api/v1/cas/${created.body.id}`)
    expect(deleted.status).toBe(200)
    expect(deleted.body.id).toBe(created.body.id)
    const gone = await call<ErrorBody>('GET', `/api/v1/cas/${created.body.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body.error.code).toBe('CA_NOT_FOUND')
  })
})

describe('§3 client certificates', () => {
  it('registers a certificate with 201; its id is the SHA-256 fingerprint and the record has every documented field', async () => {
    const device = await leaf(fleet, { cn: 'car-0001', ou: 'trucks' })
    const res = await call<CertBody>('POST', '/api/v1/certificates', { caId: fleetCa.id, certificatePem: device.pem, clientId: 'car-0001' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      id: fingerprintOf(device.pem),
      fingerprint: fingerprintOf(device.pem),
      status: 'active',
      source: 'manual',
      commonName: 'car-0001',
      organizationalUnit: 'trucks',
      caId: fleetCa.id,
      clientId: 'car-0001',
      keyType: 'EC P-256'
    })
    for (const key of ['organization', 'serialNumber', 'notBefore', 'notAfter', 'subject', 'issuer', 'certificatePem', 'createdAt', 'updatedAt']) {
      expect(res.body, key).toHaveProperty(key)
    }
    expect(JSON.stringify(res.body)).not.toMatch(/PRIVATE KEY|privateKey/)
  })

  it('refuses a certificate not issued by the chosen CA with 400 CERT_WRONG_ISSUER', async () => {
    const stranger = await leaf(other)
    const res = await call<ErrorBody>('POST', '/api/v1/certificates', { caId: fleetCa.id, certificatePem: stranger.pem })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('CERT_WRONG_ISSUER')
  })

  it('refuses a second certificate with the same Client ID (409 CLIENT_ID_TAKEN)', async () => {
    await registerCert(await leaf(fleet), { clientId: 'shared-id' })
    const res = await call<ErrorBody>('POST', '/api/v1/certificates', { caId: fleetCa.id, certificatePem: (await leaf(fleet)).pem, clientId: 'shared-id' })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('CLIENT_ID_TAKEN')
  })

  it('refuses a Client ID with a lone surrogate (400 VALIDATION_FAILED): the store would keep two such IDs as one', async () => {
    // JSON carries "\ud800" and "\ud801"; LMDB stores both as U+FFFD, so both used to be registered with one stored Client ID
    for (const clientId of ['lone-\ud800', 'lone-\udc01x']) {
      const res = await call<ErrorBody>('POST', '/api/v1/certificates', { caId: fleetCa.id, certificatePem: (await leaf(fleet)).pem, clientId })
      expect(res.status, JSON.stringify(res.body)).toBe(400)
      expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'clientId' } })
    }
    // a pair is one code point: emoji and other astral characters stay allowed
    await registerCert(await leaf(fleet), { clientId: 'car-\u{1F697}' })
  })

  it('filters by common name, status list, CA, Client ID, serial, OU and source, and pages with nextCursor', async () => {
    const made: CertBody[] = []
    for (let i = 0; i < 5; i++) {
      made.push(await registerCert(await leaf(fleet, { cn: `search-${i}`, ou: i % 2 === 0 ? 'even' : 'odd' }), { activate: i < 3, clientId: `search-client-${i}` }))
    }
    const byPrefix = await call<Page>('GET', '/api/v1/certificates?commonName=search-*&limit=500')
    expect(byPrefix.status).toBe(200)
    expect(byPrefix.body.items.map((c) => c.commonName).sort()).toEqual(['search-0', 'search-1', 'search-2', 'search-3', 'search-4'])
    expect(byPrefix.body.items[0]).not.toHaveProperty('certificatePem')
    expect(byPrefix.body.nextCursor).toBeNull()

    const exact = await call<Page>('GET', '/api/v1/certificates?commonName=search-3')
    expect(exact.body.items.map((c) => c.id)).toEqual([made[3]!.id])
    const inactive = await call<Page>('GET', '/api/v1/certificates?commonName=search-*&status=inactive,pending_activation')
    expect(inactive.body.items.map((c) => c.commonName).sort()).toEqual(['search-3', 'search-4'])
    const combined = await call<Page>('GET', `/api/v1/certificates?caId=${fleetCa.id}&organizationalUnit=even&status=active&commonName=search-*`)
    expect(combined.body.items.map((c) => c.commonName).sort()).toEqual(['search-0', 'search-2'])
    const byClient = await call<Page>('GET', '/api/v1/certificates?clientId=search-client-1')
    expect(byClient.body.items.map((c) => c.id)).toEqual([made[1]!.id])
    const serial = await call<Page>('GET', `/api/v1/certificates?serialNumber=${String(made[2]!['serialNumber'])}`)
    expect(serial.body.items.map((c) => c.id)).toEqual([made[2]!.id])
    const bySource = await call<Page>('GET', '/api/v1/certificates?source=auto')
    expect(bySource.body.items).toEqual([])
    // empty values mean "no filter"
    const empty = await call<Page>('GET', '/api/v1/certificates?commonName=search-1&status=&clientId=')
    expect(empty.body.items.map((c) => c.id)).toEqual([made[1]!.id])

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const url: string = `/api/v1/certificates?commonName=search-*&limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const page: { status: number; body: Page } = await call<Page>('GET', url)
      expect(page.status).toBe(200)
      expect(page.body.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.items.map((c) => c.id))
      cursor = page.body.nextCursor
      pages++
    } while (cursor !== null && pages < 10)
    expect(pages).toBe(3)
    expect(seen.sort()).toEqual(made.map((c) => c.id).sort())
  })

  it('answers 400 naming the query parameter for a bad limit, status, source or an unknown parameter', async () => {
    const limit = await call<ErrorBody>('GET', '/api/v1/certificates?limit=501')
    expect(limit.status).toBe(400)
    expect(limit.body.error.message).toContain('querystring/limit')
    const zero = await call<ErrorBody>('GET', '/api/v1/certificates?limit=0')
    expect(zero.body.error.message).toContain('querystring/limit')
    const notNumber = await call<ErrorBody>('GET', '/api/v1/certificates?limit=ten')
    expect(notNumber.body.error.message).toContain('querystring/limit')
    const status = await call<ErrorBody>('GET', '/api/v1/certificates?status=active,bogus')
    expect(status.status).toBe(400)
    expect(status.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'status' } })
    expect(status.body.error.message).toContain('bogus')
    const source = await call<ErrorBody>('GET', '/api/v1/certificates?source=imported')
    expect(source.body.error.message).toContain('querystring/source must be equal to one of the allowed values')
    const unknown = await call<ErrorBody>('GET', '/api/v1/certificates?cn=x')
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toBe('querystring/cn is not a known parameter')
  })

  it('shows a certificate with its associated clients', async () => {
    const cert = await registerCert(await leaf(fleet, { cn: 'with-clients' }))
    const empty = await call<CertBody & { associatedClients: unknown[] }>('GET', `/api/v1/certificates/${cert.id}`)
    expect(empty.status).toBe(200)
    expect(empty.body.associatedClients).toEqual([])
    const at = new Date().toISOString()
    await store.recordClientConnected(cert.id, { clientId: 'with-clients', connected: true, remoteAddress: '10.0.0.7', node: 'node-a', connectedAt: at, lastSeenAt: at })
    const details = await call<CertBody & { associatedClients: unknown[] }>('GET', `/api/v1/certificates/${cert.id}`)
    expect(details.body).toMatchObject({ id: cert.id, certificatePem: expect.stringContaining('BEGIN CERTIFICATE') })
    expect(details.body.associatedClients).toEqual([
      { clientId: 'with-clients', connected: true, lastSeenAt: at, remoteAddress: '10.0.0.7', node: 'node-a', connectedAt: at }
    ])
  })

  it('deactivates and activates; a repeated deactivate is 409 CERT_STATUS_CONFLICT and each change is published', async () => {
    const cert = await registerCert(await leaf(fleet))
    const off = await call<CertBody>('POST', `/api/v1/certificates/${cert.id}/deactivate`)
    expect(off.body.status).toBe('inactive')
    expect(events).toContainEqual({ kind: 'certificate', id: cert.id, status: 'inactive' })
    const again = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/deactivate`)
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('CERT_STATUS_CONFLICT')
    expect((await call<CertBody>('POST', `/api/v1/certificates/${cert.id}/activate`)).body.status).toBe('active')
  })

  it('revokes only with { "confirm": true } (400 CONFIRMATION_REQUIRED otherwise), and a revoked one cannot be activated (409 CERT_REVOKED)', async () => {
    const cert = await registerCert(await leaf(fleet))
    const noBody = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/revoke`)
    expect(noBody.status).toBe(400)
    expect(noBody.body.error.code).toBe('CONFIRMATION_REQUIRED')
    const notConfirmed = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/revoke`, { confirm: false })
    expect(notConfirmed.body.error.code).toBe('CONFIRMATION_REQUIRED')
    const revoked = await call<CertBody>('POST', `/api/v1/certificates/${cert.id}/revoke`, { confirm: true })
    expect(revoked.status).toBe(200)
    expect(revoked.body.status).toBe('revoked')
    expect(events).toContainEqual({ kind: 'certificate', id: cert.id, status: 'revoked' })
    const activate = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/activate`)
    expect(activate.status).toBe(409)
    expect(activate.body.error.code).toBe('CERT_REVOKED')
  })

  it('asks for confirmation only when there is something to revoke: 404 CERT_NOT_FOUND for an unknown id, 409 CERT_REVOKED for a revoked one', async () => {
    const unknown = await call<ErrorBody>('POST', `/api/v1/certificates/${'ef'.repeat(32)}/revoke`)
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('CERT_NOT_FOUND')
    const cert = await registerCert(await leaf(fleet))
    expect((await call('POST', `/api/v1/certificates/${cert.id}/revoke`, { confirm: true })).status).toBe(200)
    for (const body of [undefined, { confirm: false }, { confirm: true }]) {
      const again = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/revoke`, body)
      expect(again.status, JSON.stringify(body)).toBe(409)
      expect(again.body.error).toMatchObject({ code: 'CERT_REVOKED', details: { id: cert.id, status: 'revoked' } })
    }
  })

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE, as proxies and HTTP clients expect', async () => {
    const huge = await call<ErrorBody>('POST', '/api/v1/cas', { certificatePem: 'x'.repeat(2 * 1024 * 1024), registrationMode: 'manual' })
    expect(huge.status).toBe(413)
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('takes content-type: application/json with an empty body as no body (Python requests sessions send it on every call)', async () => {
    const json = { 'content-type': 'application/json' }
    const cert = await registerCert(await leaf(fleet))
    expect((await call<CertBody>('POST', `/api/v1/certificates/${cert.id}/deactivate`, '', json)).body.status).toBe('inactive')
    expect((await call<CertBody>('POST', `/api/v1/certificates/${cert.id}/activate`, '', json)).body.status).toBe('active')
    const unconfirmed = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/revoke`, '', json)
    expect(unconfirmed.status).toBe(400)
    expect(unconfirmed.body.error.code).toBe('CONFIRMATION_REQUIRED')
    await call('POST', `/api/v1/certificates/${cert.id}/deactivate`, '', json)
    expect((await call<CertBody>('DELETE', `/api/v1/certificates/${cert.id}`, '', json)).status).toBe(200)
    const ca = await call<CaBody>('POST', '/api/v1/cas', { certificatePem: (await pki.ca('empty-json')).pem, registrationMode: 'manual' })
    expect((await call<CaBody>('POST', `/api/v1/cas/${ca.body.id}/deactivate`, '', json)).body.status).toBe('inactive')
    expect((await call<CaBody>('DELETE', `/api/v1/cas/${ca.body.id}`, '', json)).status).toBe(200)
    // a route that needs a body still says so, and malformed JSON is still refused
    const missing = await call<ErrorBody>('POST', '/api/v1/cas', '', json)
    expect(missing.status).toBe(400)
    expect(missing.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body must be object' })
    const malformed = await call<ErrorBody>('POST', `/api/v1/certificates/${cert.id}/activate`, '{', json)
    expect(malformed.status).toBe(400)
    expect(malformed.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body is not valid JSON' })
  })

  it('refuses to delete an active certificate (409), deletes an inactive one (200 with the record), then 404 CERT_NOT_FOUND', async () => {
    const cert = await registerCert(await leaf(fleet))
    const refused = await call<ErrorBody>('DELETE', `/api/v1/certificates/${cert.id}`)
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('CERT_STATUS_CONFLICT')
    await call('POST', `/api/v1/certificates/${cert.id}/deactivate`)
    const deleted = await call<CertBody>('DELETE', `/api/v1/certificates/${cert.id}`)
    expect(deleted.status).toBe(200)
    expect(deleted.body).toMatchObject({ id: cert.id, status: 'inactive' })
    const gone = await call<ErrorBody>('GET', `/api/v1/certificates/${cert.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body.error.code).toBe('CERT_NOT_FOUND')
  })
})

describe('§3 error bodies (docs/errors.md)', () => {
  it('answers an unknown certificate with 404 CERT_NOT_FOUND in { error: { code, message, details, requestId } }', async () => {
    const res = await call<ErrorBody>('GET', `/api/v1/certificates/${'ab'.repeat(32)}`)
    expect(res.status).toBe(404)
    expect(Object.keys(res.body)).toEqual(['error'])
    expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message', 'requestId'])
    expect(res.body.error.code).toBe('CERT_NOT_FOUND')
    expect(res.body.error.message).toContain('ab'.repeat(32))
    expect(res.body.error.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers['x-request-id']).toBe(res.body.error.requestId)
  })

  it('answers a URL with a trailing slash as without it: /cas/ and /certificates/ list, a delete of a list URL is 405', async () => {
    const cas = await call<{ items: CaBody[] }>('GET', '/api/v1/cas/')
    expect(cas.status, JSON.stringify(cas.body)).toBe(200)
    expect(cas.body).toEqual((await call('GET', '/api/v1/cas')).body)
    const certs = await call<Page>('GET', '/api/v1/certificates/?limit=5')
    expect(certs.status, JSON.stringify(certs.body)).toBe(200)
    expect(certs.body).toEqual((await call('GET', '/api/v1/certificates?limit=5')).body)
    expect((await call<CaBody>('GET', `/api/v1/cas/${fleetCa.id}/`)).body.id).toBe(fleetCa.id)
    const del = await call<ErrorBody>('DELETE', '/api/v1/cas/')
    expect(del.status).toBe(405)
    expect(del.body.error.code).toBe('METHOD_NOT_ALLOWED')
    // an empty segment is still an empty id, not the list
    const doubled = await call<ErrorBody>('GET', '/api/v1/cas//')
    expect(doubled.status).toBe(400)
  })

  it('answers a known path asked with a method it does not take with 405 METHOD_NOT_ALLOWED and an Allow header', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/api/v1/cas', 'GET, HEAD, POST'],
      ['PUT', `/api/v1/cas/${'a'.repeat(64)}`, 'DELETE, GET, HEAD, PATCH'],
      ['GET', `/api/v1/certificates/${'a'.repeat(64)}/revoke`, 'POST'],
      ['DELETE', '/api/v1/certificates?limit=1', 'GET, HEAD, POST']
    ] as const) {
      const res = await call<ErrorBody>(method, path)
      expect(res.status, `${method} ${path}`).toBe(405)
      expect(res.headers['allow'], `${method} ${path}`).toBe(allow)
      expect(res.body.error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { method, allowed: allow.split(', ') } })
    }
    // a path no method takes is still 404
    expect((await call<ErrorBody>('PUT', '/api/v1/no-such-thing')).status).toBe(404)
  })

  it('answers an unknown route with 404 NOT_FOUND in the same body', async () => {
    const res = await call<ErrorBody>('GET', '/api/v1/no-such-thing')
    expect(res.status).toBe(404)
    expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'no route GET /api/v1/no-such-thing' })
    expect(typeof res.body.error.requestId).toBe('string')
  })

  it('turns an unexpected failure into 500 INTERNAL with a generic message, and logs the cause under the request id', async () => {
    const broken = new Proxy(store, {
      get (target, property, receiver) {
        if (property === 'listCas') return async () => { throw new Error('disk quota exceeded on /var/lib/secret-volume') }
        const value = Reflect.get(target, property, receiver) as unknown
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      }
    })
    const brokenApp = makeApp({ store: broken })
    try {
      const res = await brokenApp.inject({ method: 'GET', url: '/api/v1/cas', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(res.statusCode).toBe(500)
      const body = res.json<ErrorBody>()
      expect(body.error.code).toBe('INTERNAL')
      expect(body.error.message).not.toContain('secret-volume')
      expect(body.error.message).toContain(body.error.requestId)
      const logged = logs.lines().find((line) => line['event'] === 'request.failed' && line['requestId'] === body.error.requestId)
      expect(JSON.stringify(logged)).toContain('secret-volume')
    } finally {
      await brokenApp.close()
    }
  })
})

describe('§4 logging', () => {
  it('logs one request line with the request id and error code, and never the token, the Authorization header or PEM', async () => {
    const res = await call<ErrorBody>('GET', `/api/v1/cas/${'cd'.repeat(32)}`)
    const line = logs.lines().find((l) => l['event'] === 'request.completed' && l['requestId'] === res.body.error.requestId)
    expect(line).toMatchObject({ module: 'admin', method: 'GET', statusCode: 404, code: 'CA_NOT_FOUND' })
    expect(logs.lines().filter((l) => l['event'] === 'cert.registered').length).toBeGreaterThan(0)
    for (const raw of logs.raw) {
      expect(raw).not.toContain(TOKEN)
      expect(raw.toLowerCase()).not.toContain('authorization')
      expect(raw).not.toContain('-----BEGIN')
    }
  })
})
