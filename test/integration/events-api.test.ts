/**
 * Issue 4 item 4 end to end: a whole certmq (real MQTTS, openssl certificates, mqtt.js devices)
 * records registry changes and refused connections as events, and GET /api/v1/events pages them.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenSslPki, type OpenSslCa, type OpenSslLeaf } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'
import { waitFor } from '../helpers/wait-for.js'

interface Event {
  id: string
  time: string
  type: string
  actor: string
  target: { kind: string; id: string } | null
  reason?: string
  count?: number
  lastTime?: string
  details: Record<string, unknown>
}
interface Page { items: Event[]; nextCursor: string | null }
interface ErrorBody { error: { code: string; message: string; details: Record<string, unknown> } }
interface Record_ { id: string; status: string }

let pki: OpenSslPki
let certmq: TestCertmq
let fleet: OpenSslCa
let fleetCa: Record_

async function events (query = ''): Promise<Event[]> {
  const res = await certmq.api<Page>('GET', `/api/v1/events${query}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.items
}

async function register (leaf: OpenSslLeaf, caId = fleetCa.id): Promise<Record_> {
  const res = await certmq.api<Record_>('POST', '/api/v1/certificates', { caId, certificatePem: leaf.pem })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

async function connectCode (leaf: OpenSslLeaf | undefined): Promise<number> {
  const device = leaf === undefined ? {} : { certPem: leaf.pem, keyPem: leaf.keyPem }
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, device)
  await endClient(client)
  return code
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  fleet = await pki.ca('events-fleet')
  certmq = await startCertmq()
  const res = await certmq.api<Record_>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual' })
  expect(res.status).toBe(201)
  fleetCa = res.body
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

describe('events of registry changes', () => {
  it('records the built-in CA (actor system) and a CA registration (actor admin)', async () => {
    const cas = await events('?type=ca.registered')
    expect(cas[0]).toMatchObject({ type: 'ca.registered', actor: 'admin', target: { kind: 'ca', id: fleetCa.id }, details: { registrationMode: 'manual', builtin: false } })
    expect(cas.at(-1)).toMatchObject({ actor: 'system', details: { builtin: true } })
  })

  it('records a registration and a revocation with actor admin, status from and to, and no PEM', async () => {
    const leaf = await pki.leaf('ev-revoked', fleet, { cn: 'ev-revoked' })
    const cert = await register(leaf)
    expect((await certmq.api('POST', `/api/v1/certificates/${cert.id}/revoke`, { confirm: true })).status).toBe(200)
    const items = await events(`?targetId=${cert.id}`)
    expect(items.map((e) => e.type)).toEqual(['certificate.revoked', 'certificate.registered'])
    expect(items[0]).toMatchObject({ actor: 'admin', target: { kind: 'certificate', id: cert.id }, details: { from: 'active', to: 'revoked' } })
    expect(items[1]).toMatchObject({ actor: 'admin', details: { status: 'active', source: 'manual', commonName: 'ev-revoked' } })
    expect(JSON.stringify(items)).not.toContain('BEGIN')
    expect((await certmq.api('DELETE', `/api/v1/certificates/${cert.id}`)).status).toBe(200)
    expect((await events(`?targetId=${cert.id}&limit=1`))[0]).toMatchObject({ type: 'certificate.deleted', details: { from: 'revoked', to: 'deleted' } })
  })

  it('records a change of a CA\'s settings with what changed (ca.updated), and nothing for a PATCH that changes nothing', async () => {
    const other = await pki.ca('events-updated')
    const ca = (await certmq.api<Record_>('POST', '/api/v1/cas', { certificatePem: other.pem, registrationMode: 'auto' })).body
    expect((await certmq.api('PATCH', `/api/v1/cas/${ca.id}`, { registrationMode: 'manual', description: 'paused' })).status).toBe(200)
    expect((await certmq.api('PATCH', `/api/v1/cas/${ca.id}`, { registrationMode: 'manual' })).status).toBe(200)
    const updated = await events(`?type=ca.updated&targetId=${ca.id}`)
    expect(updated).toHaveLength(1)
    expect(updated[0]).toMatchObject({ actor: 'admin', target: { kind: 'ca', id: ca.id } })
    expect(JSON.parse(String(updated[0]!.details['from']))).toEqual({ registrationMode: 'auto', description: '' })
    expect(JSON.parse(String(updated[0]!.details['to']))).toEqual({ registrationMode: 'manual', description: 'paused' })
  })

  it('records a rotation of the registration code by who did it, never the code', async () => {
    const rotated = await certmq.api<{ registrationCode: string }>('POST', '/api/v1/cas/registration-code/rotate')
    expect(rotated.status).toBe(200)
    const items = await events('?type=ca.registration_code_rotated')
    expect(items).toEqual([expect.objectContaining({ actor: 'admin', target: null, details: {} })])
    expect(JSON.stringify(items)).not.toContain(rotated.body.registrationCode)
  })

  it('records a CA deactivation and deletion', async () => {
    const other = await pki.ca('events-other')
    const ca = (await certmq.api<Record_>('POST', '/api/v1/cas', { certificatePem: other.pem, registrationMode: 'manual' })).body
    expect((await certmq.api('POST', `/api/v1/cas/${ca.id}/deactivate`)).status).toBe(200)
    expect((await events(`?type=ca.deactivated&targetId=${ca.id}`))[0]).toMatchObject({
      actor: 'admin', target: { kind: 'ca', id: ca.id }, details: { from: 'active', to: 'inactive' }
    })
    expect((await certmq.api('DELETE', `/api/v1/cas/${ca.id}`)).status).toBe(200)
    expect((await events(`?targetId=${ca.id}`)).map((e) => [e.type, e.details['from'], e.details['to']])).toEqual([
      ['ca.deleted', 'inactive', 'deleted'], ['ca.deactivated', 'active', 'inactive'], ['ca.registered', undefined, undefined]
    ])
  })

  it('records certificate.deleted for each certificate deleted with its CA, counts them on ca.deleted, and keeps revoked ones denied', async () => {
    const doomed = await pki.ca('events-doomed')
    const ca = (await certmq.api<Record_>('POST', '/api/v1/cas', { certificatePem: doomed.pem, registrationMode: 'manual' })).body
    const inactiveLeaf = await pki.leaf('ev-doomed-inactive', doomed, { cn: 'ev-doomed-inactive' })
    const revokedLeaf = await pki.leaf('ev-doomed-revoked', doomed, { cn: 'ev-doomed-revoked' })
    const inactive = await register(inactiveLeaf, ca.id)
    const revoked = await register(revokedLeaf, ca.id)
    expect((await certmq.api('POST', `/api/v1/certificates/${inactive.id}/deactivate`)).status).toBe(200)
    expect((await certmq.api('POST', `/api/v1/certificates/${revoked.id}/revoke`, { confirm: true })).status).toBe(200)
    expect((await certmq.api('DELETE', `/api/v1/cas/${ca.id}`)).status).toBe(200)

    expect((await events(`?targetId=${ca.id}&limit=1`))[0]).toMatchObject({
      type: 'ca.deleted', actor: 'admin', details: { from: 'active', to: 'deleted', certificatesDeleted: 2 }
    })
    for (const [cert, from] of [[inactive, 'inactive'], [revoked, 'revoked']] as const) {
      expect((await events(`?targetId=${cert.id}&limit=1`))[0]).toMatchObject({
        type: 'certificate.deleted', actor: 'admin', target: { kind: 'certificate', id: cert.id }, details: { caId: ca.id, from, to: 'deleted' }
      })
    }

    // the deny list outlives the CA: registered again, the revoked certificate stays refused
    const again = (await certmq.api<Record_>('POST', '/api/v1/cas', { certificatePem: doomed.pem, registrationMode: 'auto' })).body
    const refused = await certmq.api<ErrorBody>('POST', '/api/v1/certificates', { caId: again.id, certificatePem: revokedLeaf.pem })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('CERT_REVOKED')
    // an auto-registering CA would have taken it back (CONNACK 0) had the deny list forgotten it
    expect(await connectCode(revokedLeaf)).toBe(5)
  })

  it('records an automatic registration with actor device', async () => {
    const auto = await pki.ca('events-auto')
    const ca = (await certmq.api<Record_>('POST', '/api/v1/cas', { certificatePem: auto.pem, registrationMode: 'auto' })).body
    const leaf = await pki.leaf('ev-auto', auto, { cn: 'ev-auto' })
    expect(await connectCode(leaf)).toBe(0)
    const registered = await waitFor(async () => (await events('?type=certificate.registered&actor=device'))[0], { what: 'the auto-registration event' })
    expect(registered).toMatchObject({ details: { source: 'auto', caId: ca.id, commonName: 'ev-auto', status: 'active' } })
  })
})

describe('events of refused connections', () => {
  it('records a connection refused for a revoked certificate with actor device and reason revoked', async () => {
    const leaf = await pki.leaf('ev-refused', fleet, { cn: 'ev-refused' })
    const cert = await register(leaf)
    await certmq.api('POST', `/api/v1/certificates/${cert.id}/revoke`, { confirm: true })
    expect(await connectCode(leaf)).toBe(5)
    const refused = await waitFor(async () => (await events(`?type=connect.rejected&targetId=${cert.id}`))[0], { what: 'the connect.rejected event' })
    expect(refused).toMatchObject({
      actor: 'device', reason: 'revoked', count: 1, target: { kind: 'certificate', id: cert.id },
      details: { remoteAddress: expect.stringContaining('127.0.0.1'), node: 'test-node', caId: fleetCa.id }
    })
  })

  it('records a connection without a certificate by remote address, target null, reason no_certificate', async () => {
    expect(await connectCode(undefined)).toBe(5)
    const refused = await waitFor(async () => (await events('?reason=no_certificate'))[0], { what: 'the no_certificate event' })
    expect(refused).toMatchObject({ type: 'connect.rejected', actor: 'device', target: null, details: { remoteAddress: expect.stringContaining('127.0.0.1') } })
  })

  it('aggregates 30 rapid reconnects of an unregistered certificate into one event with count 30', async () => {
    const leaf = await pki.leaf('ev-storm', fleet, { cn: 'ev-storm' })
    for (let i = 0; i < 30; i++) expect(await connectCode(leaf)).toBe(5)
    const stormEvents = async (): Promise<Event[]> => (await events('?reason=unregistered&limit=500')).filter((e) => e.details['serial'] !== undefined)
    const items = await waitFor(async () => {
      const found = await stormEvents()
      return found.length === 1 && found[0]!.count === 30 ? found : undefined
    }, { what: 'one event with count 30' })
    expect(items[0]).toMatchObject({ type: 'connect.rejected', actor: 'device', reason: 'unregistered', count: 30 })
    expect(Date.parse(items[0]!.lastTime!)).toBeGreaterThan(Date.parse(items[0]!.time))
  })
})

describe('GET /api/v1/events', () => {
  it('pages newest first with nextCursor while new events arrive, losing and repeating nothing', async () => {
    const leaf = await pki.leaf('ev-paging', fleet, { cn: 'ev-paging' })
    const cert = await register(leaf)
    for (let i = 0; i < 4; i++) {
      await certmq.api('POST', `/api/v1/certificates/${cert.id}/deactivate`)
      await certmq.api('POST', `/api/v1/certificates/${cert.id}/activate`)
    }
    const history = await events(`?targetId=${cert.id}`)
    expect(history.map((e) => e.type)).toEqual([
      ...Array.from({ length: 4 }, () => ['certificate.activated', 'certificate.deactivated']).flat(), 'certificate.registered'
    ])
    const expected = history.map((e) => e.id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res: { status: number; body: Page } = await certmq.api<Page>('GET',
        `/api/v1/events?targetId=${cert.id}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(res.status).toBe(200)
      seen.push(...res.body.items.map((e) => e.id))
      cursor = res.body.nextCursor
      // a change between pages: newer than everything paged so far
      await certmq.api('POST', `/api/v1/certificates/${cert.id}/${seen.length % 4 === 0 ? 'activate' : 'deactivate'}`)
    } while (cursor !== null)
    expect(seen).toEqual(expected)
  })

  it('filters by several types and a time range', async () => {
    const all = await events('?limit=500')
    const types = await events('?type=ca.registered&type=ca.deactivated&limit=500')
    expect(types.length).toBeGreaterThan(0)
    expect(types.every((e) => e.type === 'ca.registered' || e.type === 'ca.deactivated')).toBe(true)
    expect(types).toEqual(all.filter((e) => e.type === 'ca.registered' || e.type === 'ca.deactivated'))
    expect(await events('?type=ca.registered,ca.deactivated&limit=500')).toEqual(types)
    const middle = all[Math.floor(all.length / 2)]!
    const ranged = await events(`?from=${encodeURIComponent(middle.time)}&to=${encodeURIComponent(middle.time)}&limit=500`)
    expect(ranged.map((e) => e.id)).toContain(middle.id)
    expect(ranged.every((e) => e.time === middle.time)).toBe(true)
    // a date alone: `from` is the start of that day (UTC) and `to` its end, both inclusive
    const day = middle.time.slice(0, 10)
    const daily = await events(`?from=${day}&to=${day}&limit=500`)
    expect(daily.map((e) => e.id)).toContain(middle.id)
    expect(daily).toEqual(all.filter((e) => e.time.startsWith(day)))
  })

  it('answers 400 VALIDATION_FAILED naming the bad parameter', async () => {
    const bad = async (query: string): Promise<ErrorBody['error']> => {
      const res = await certmq.api<ErrorBody>('GET', `/api/v1/events?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.error.code).toBe('VALIDATION_FAILED')
      return res.body.error
    }
    expect((await bad('type=cert.revoked')).message).toMatch(/^querystring\/type: "cert.revoked" is not an event type/)
    expect((await bad('from=yesterday')).message).toMatch(/^querystring\/from: /)
    expect((await bad('to=2026-13-45T99:00:00Z')).message).toMatch(/^querystring\/to: /)
    expect((await bad('from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).message).toMatch(/^querystring\/from: /)
    expect((await bad('limit=501')).message).toMatch(/limit/)
    expect((await bad('cursor=bm9wZQ')).message).toMatch(/^querystring\/cursor: /)
    expect((await bad('reason=Revoked!')).message).toMatch(/^querystring\/reason: /)
    expect((await bad('colour=red')).message).toMatch(/colour/)
  })

  it('needs the admin token', async () => {
    const res = await fetch(`${certmq.adminUrl}/api/v1/events`)
    expect(res.status).toBe(401)
  })
})

describe('durability', () => {
  it('keeps events across a restart, including a count raised just before the stop (flushed at shutdown)', async () => {
    const before = await events('?limit=500')
    const noCert = before.find((e) => e.reason === 'no_certificate')!
    // one more refusal, not queried before the stop: it lives only in the batch queue until then
    const logged = certmq.logs.events('connect.rejected').length
    expect(await connectCode(undefined)).toBe(5)
    await waitFor(() => certmq.logs.events('connect.rejected').length > logged, { what: 'the refusal' })
    const dataDir = certmq.dataDir
    await certmq.stop({ keepData: true })
    certmq = await startCertmq({}, { dataDir })
    try {
      const after = await events('?limit=500')
      expect(after).toEqual(before.map((e) => (e.id === noCert.id ? { ...e, count: noCert.count! + 1, lastTime: expect.any(String) } : e)))
    } finally {
      await certmq.stop()
      await rm(dataDir, { recursive: true, force: true })
      certmq = undefined as unknown as TestCertmq
    }
  })
})
