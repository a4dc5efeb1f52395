/**
 * Certificate search and details over the admin API (PRODUCT §3) with a clock the test moves:
 * openssl-made certificates whose notAfter sit exactly on the boundaries of `expired` and
 * `expiringWithinDays`, combined filters, totals, paging while the registry changes, refused
 * parameters, and the details view with its bounded associated clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_ASSOCIATED_CLIENTS } from '../../src/domain/certificate.js'
import { startTestAdmin, type TestAdmin } from '../helpers/admin-app.js'
import { fingerprintOf, type OpenSslCa, type OpenSslPki } from '../helpers/openssl.js'

const TOKEN = 'search-test-token-0123456789abcdef'
const DAY = 86_400_000

interface Cert { id: string; commonName: string; status: string; notAfter: string; [key: string]: unknown }
interface Page { items: Cert[]; nextCursor: string | null; total: number }
interface ErrorBody { error: { code: string; message: string; details: Record<string, unknown> } }

let admin: TestAdmin
let pki: OpenSslPki
let fleet: OpenSslCa
let caId: string
/** What the server's clock says; the test moves it. */
let clock = Date.now()
/** T0: a whole second 10 days ahead; the boundary certificates expire around it. */
const T0 = Math.floor((Date.now() + 10 * DAY) / 1000) * 1000
const certs: Record<string, Cert> = {}
let made = 0

async function call<T> (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; body: T }> {
  return await admin.call<T>(method, url, body)
}

async function register (cn: string, notAfterMs: number, opts: { ou?: string; activate?: boolean } = {}): Promise<Cert> {
  made++
  const leaf = await pki.leaf(`search-${made}`, fleet, {
    cn, ...(opts.ou === undefined ? {} : { ou: opts.ou }), notBefore: new Date(Date.now() - DAY), notAfter: new Date(notAfterMs)
  })
  const res = await call<Cert>('POST', '/api/v1/certificates', { caId, certificatePem: leaf.pem, activate: opts.activate ?? true })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

async function search (query: string): Promise<Page> {
  const res = await call<Page>('GET', `/api/v1/certificates?${query}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

function names (page: Page): string[] {
  return page.items.map((c) => c.commonName)
}

beforeAll(async () => {
  admin = await startTestAdmin({ name: 'search', token: TOKEN, now: () => new Date(clock) })
  pki = admin.pki
  fleet = await pki.ca('search-fleet')
  caId = fingerprintOf(fleet.pem)
  expect((await call('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual' })).status).toBe(201)
  certs['expiredBy1s'] = await register('FS000001', T0 - 1000)
  certs['atT0'] = await register('FS000002', T0)
  certs['at30d'] = await register('FS000003', T0 + 30 * DAY, { ou: 'buses' })
  certs['after30d'] = await register('FS000004', T0 + 30 * DAY + 1000)
  certs['inactiveSoon'] = await register('FS000005', T0 + DAY, { activate: false })
  certs['other'] = await register('XX000001', T0 + DAY)
})

afterAll(async () => {
  await admin?.close()
})

describe('PRODUCT §3 search: expired and expiring within N days at the server clock', () => {
  it('at now = T0: a certificate expiring at T0 is not expired and is expiring; one at T0 + 30 days is within 30 days', async () => {
    clock = T0
    const expiring = await search('status=active&commonName=FS*&expiringWithinDays=30&sort=notAfter')
    expect(names(expiring)).toEqual(['FS000002', 'FS000003'])
    expect(expiring.total).toBe(2)
    expect(names(await search('commonName=FS*&expired=true'))).toEqual(['FS000001'])
    expect(names(await search('commonName=FS*&expired=false&sort=notAfter'))).toEqual(['FS000002', 'FS000005', 'FS000003', 'FS000004'])
    expect(names(await search('commonName=FS*&expiringWithinDays=0'))).toEqual(['FS000002'])
  })

  it('one millisecond later the T0 certificate is expired and leaves the expiring list', async () => {
    clock = T0 + 1
    expect(names(await search('status=active&commonName=FS*&expiringWithinDays=30&sort=notAfter'))).toEqual(['FS000003'])
    expect(names(await search('commonName=FS*&expired=true&sort=notAfter&order=desc'))).toEqual(['FS000002', 'FS000001'])
  })

  it('combines status lists (repeated and comma-separated), OU, CA, CN prefix and inclusive notAfter bounds', async () => {
    clock = T0
    const both = await search('status=active&status=inactive,pending_activation&commonName=FS*&sort=commonName')
    expect(names(both)).toEqual(['FS000001', 'FS000002', 'FS000003', 'FS000004', 'FS000005'])
    expect(names(await search(`caId=${caId.toUpperCase()}&organizationalUnit=buses`))).toEqual(['FS000003'])
    const from = new Date(T0).toISOString()
    const to = new Date(T0 + 30 * DAY).toISOString()
    expect(names(await search(`notAfterFrom=${from}&notAfterTo=${to}&status=active&sort=notAfter`)))
      .toEqual(['FS000002', 'XX000001', 'FS000003'])
    expect((await search('commonName=FS*&limit=1')).total).toBe(5)
  })

  it('keeps answering the issue-2 shape: items, nextCursor and now total', async () => {
    const page = await search('limit=2')
    expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor', 'total'])
    expect(page.items[0]).not.toHaveProperty('certificatePem')
  })
})

describe('PRODUCT §3 paging while the registry changes', () => {
  it('sort=notAfter&order=desc: deleting and registering between pages neither loses nor repeats a certificate', async () => {
    clock = Date.now()
    const batch: Cert[] = []
    for (let i = 0; i < 6; i++) batch.push(await register(`PG00000${i}`, T0 + (i % 3) * DAY))
    const mustSee = new Set(batch.map((c) => c.id))
    const seen: string[] = []
    let cursor: string | null = null
    for (let page = 0; page < 20; page++) {
      const query: string = `commonName=PG*&sort=notAfter&order=desc&limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const body = await search(query)
      seen.push(...body.items.map((c) => c.id))
      cursor = body.nextCursor
      if (cursor === null) break
      const unseen = [...mustSee].find((id) => !seen.includes(id))
      if (unseen !== undefined && page === 0) {
        expect((await call('POST', `/api/v1/certificates/${unseen}/deactivate`)).status).toBe(200)
        expect((await call('DELETE', `/api/v1/certificates/${unseen}`)).status).toBe(200)
        mustSee.delete(unseen)
      }
      await register(`PG10000${page}`, T0 + page * 1000)
    }
    expect(new Set(seen).size).toBe(seen.length)
    for (const id of mustSee) expect(seen).toContain(id)
  })
})

describe('400 VALIDATION_FAILED naming the parameter', () => {
  it.each([
    ['status', 'status=active,bogus'],
    ['notAfterFrom', 'notAfterFrom=tomorrow'],
    ['notBeforeTo', 'notBeforeTo=2026-13-01T00:00:00Z'],
    ['expired', 'expired=maybe'],
    ['expiringWithinDays', 'expiringWithinDays=-3'],
    ['sort', 'sort=fingerprint'],
    ['order', 'order=sideways'],
    ['cursor', 'cursor=not-a-cursor'],
    ['serialNumber', 'serialNumber=xyz']
  ])('%s', async (field, query) => {
    const res = await call<ErrorBody>('GET', `/api/v1/certificates?${query}`)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
    expect(res.body.error.details).toMatchObject({ location: 'querystring', field })
    expect(res.body.error.message).toMatch(new RegExp(`^querystring/${field}[: ]`))
  })

  it('refuses a cursor with other filters or another sort', async () => {
    const first = await search('commonName=FS*&sort=notAfter&limit=1')
    const cursor = encodeURIComponent(first.nextCursor ?? '')
    expect((await search(`commonName=FS*&sort=notAfter&limit=2&cursor=${cursor}`)).items).toHaveLength(2)
    const other = await call<ErrorBody>('GET', `/api/v1/certificates?commonName=FS*&sort=createdAt&cursor=${cursor}`)
    expect(other.status).toBe(400)
    expect(other.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { location: 'querystring', field: 'cursor' } })
    expect(other.body.error.message).toMatch(/^querystring\/cursor: was returned for other filters/)
  })
})

describe('PRODUCT §3 certificate details', () => {
  it('shows key type and size, issuer, subject, validity, source, Client ID, times, fingerprint, and the newest clients, bounded', async () => {
    const cert = certs['at30d'] as Cert
    for (let i = 0; i < MAX_ASSOCIATED_CLIENTS + 5; i++) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
      await admin.store.recordClientConnected(cert.id, { clientId: `car-${i}`, connected: true, remoteAddress: `10.0.0.${i}`, node: 'node-a', connectedAt: at, lastSeenAt: at })
    }
    await admin.store.recordClientDisconnected(cert.id, `car-${MAX_ASSOCIATED_CLIENTS + 4}`, 'node-a', '2026-01-02T00:00:00.000Z')
    const res = await call<Cert & { associatedClients: Array<Record<string, unknown>> }>('GET', `/api/v1/certificates/${cert.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      id: cert.id, fingerprint: cert.id, keyType: 'EC P-256', keySize: 256, commonName: 'FS000003', organizationalUnit: 'buses',
      source: 'manual', clientId: null, caId, status: 'active', notAfter: new Date(T0 + 30 * DAY).toISOString()
    })
    expect(res.body['subject']).toContain('CN=FS000003')
    expect(res.body['issuer']).toEqual(expect.any(String))
    for (const key of ['organization', 'serialNumber', 'notBefore', 'createdAt', 'updatedAt', 'certificatePem']) expect(res.body).toHaveProperty(key)
    const clients = res.body.associatedClients
    expect(clients).toHaveLength(MAX_ASSOCIATED_CLIENTS)
    expect(clients.map((c) => c['clientId'])).toEqual(Array.from({ length: MAX_ASSOCIATED_CLIENTS }, (_, i) => `car-${MAX_ASSOCIATED_CLIENTS + 4 - i}`))
    expect(clients[0]).toEqual({
      clientId: `car-${MAX_ASSOCIATED_CLIENTS + 4}`, connected: false, lastSeenAt: '2026-01-02T00:00:00.000Z',
      remoteAddress: `10.0.0.${MAX_ASSOCIATED_CLIENTS + 4}`, node: 'node-a', connectedAt: expect.any(String)
    })
  })
})
