/**
 * Persistent sessions (clean=false): what is queued for an offline one is bounded
 * (sessions.maxQueuedMessages), a connected one is not, and the bound frees as the device takes
 * its messages; a session goes with its certificate when that is revoked or deleted, and stays
 * through a deactivation. Real MQTTS devices (mqtt.js) with openssl-made certificates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import type { LogLine } from '../helpers/log-sink.js'
import { connectPersistent, endClient, publishAs, type PersistentDevice } from '../helpers/mqtt.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa, type OpenSslCert } from '../helpers/openssl.js'
import { scrapeMetrics } from '../helpers/prometheus.js'
import { waitFor } from '../helpers/wait-for.js'

const LIMIT = 5
let pki: OpenSslPki
let certmq: TestCertmq
let subscriber: OpenSslCert
let publisher: OpenSslCert
let caId: string
let ca: OpenSslCa

beforeAll(async () => {
  pki = await OpenSslPki.create()
  certmq = await startCertmq({ CERTMQ_SESSIONS_MAX_QUEUED_MESSAGES: String(LIMIT) })
  ca = await pki.ca('queue-fleet')
  const registered = await certmq.api<{ id: string }>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })
  expect(registered.status).toBe(201)
  caId = registered.body.id
  subscriber = await pki.leaf('queue-sub', ca, { cn: 'queue-sub' })
  publisher = await pki.leaf('queue-pub', ca, { cn: 'queue-pub' })
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

/** A device's persistent session under `clientId`, collecting what arrives. */
async function connectAs (device: OpenSslCert, clientId: string): Promise<PersistentDevice> {
  return await connectPersistent(certmq, device, clientId)
}

async function publishTo (topic: string, payloads: string[]): Promise<void> {
  await publishAs(certmq, publisher, 'queue-pub', topic, payloads)
}

/** Time for a message that should not arrive to arrive: what a check that nothing came waits. */
const settle = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, 300)) }

/** The session.discarded line of `clientId`, once it is logged. */
async function discarded (clientId: string): Promise<LogLine> {
  return await waitFor(() => certmq.logs.events('session.discarded').find((l) => l['clientId'] === clientId), { what: `session.discarded of ${clientId}` })
}

/** The subscriber's persistent session, collecting what arrives on queue/#. */
async function connectSubscriber (): Promise<PersistentDevice> {
  return await connectAs(subscriber, 'queue-sub')
}

async function publish (payloads: string[]): Promise<void> {
  await publishTo('queue/telemetry', payloads)
}

async function dropped (): Promise<number> {
  return (await scrapeMetrics(certmq.adminUrl)).get('certmq_messages_dropped_total{reason="queue_full"}') ?? 0
}

const numbered = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `m${from + i}`)

describe('sessions.maxQueuedMessages', () => {
  it('queues at most the bound for an offline session, delivers those on reconnect and counts the rest dropped', async () => {
    const first = await connectSubscriber()
    await first.client.subscribeAsync('queue/#', { qos: 1 })
    await endClient(first.client)

    await publish(numbered(0, LIMIT + 3))
    const back = await connectSubscriber()
    await waitFor(() => back.received.length >= LIMIT, { what: `${LIMIT} queued messages` })
    // the oldest are kept, as Mosquitto keeps them; nothing beyond the bound arrives
    await settle()
    expect(back.received).toEqual(numbered(0, LIMIT))
    expect(await dropped()).toBe(3)
    const warnings = certmq.logs.events('session.queue_full')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ clientId: 'queue-sub', maxQueuedMessages: LIMIT, level: 40 })

    // connected, it is not bound: every message arrives
    await publish(numbered(100, LIMIT * 3))
    await waitFor(() => back.received.length >= LIMIT * 4, { what: 'live messages' })
    expect(back.received.slice(LIMIT)).toEqual(numbered(100, LIMIT * 3))
    expect(await dropped()).toBe(3)
    await endClient(back.client)
  })

  it('frees the bound as messages are taken: a later absence queues up to the bound again', async () => {
    await publish(numbered(200, LIMIT))
    const again = await connectSubscriber()
    await waitFor(() => again.received.length >= LIMIT, { what: `${LIMIT} queued messages` })
    expect(again.received).toEqual(numbered(200, LIMIT))
    expect(await dropped()).toBe(3)
    await endClient(again.client)
  })
})

describe('a persistent session goes with its certificate', () => {
  it('discards the offline session of a revoked certificate: another certificate given that client ID resumes nothing', async () => {
    const owner = await pki.leaf('owner-revoked', ca, { cn: 'owner-revoked' })
    const first = await connectAs(owner, 'car-17')
    await first.client.subscribeAsync('car-17/cmd', { qos: 1 })
    await endClient(first.client)
    await publishTo('car-17/cmd', ['unlock', 'start'])
    expect((await certmq.api('POST', `/api/v1/certificates/${fingerprintOf(owner.pem)}/revoke`, { confirm: true })).status).toBe(200)
    expect(await discarded('car-17')).toMatchObject({ reason: 'certificate_revoked', fingerprint: fingerprintOf(owner.pem), queued: 2 })

    const other = await pki.leaf('owner-other', ca, { cn: 'owner-other' })
    const taker = await connectAs(other, 'car-17')
    expect(taker.sessionPresent).toBe(false)
    // neither the queued messages nor the subscription came with the client ID
    await publishTo('car-17/cmd', ['later'])
    await settle()
    expect(taker.received).toEqual([])
    await endClient(taker.client)
  })

  it('discards it when the certificate is deleted, so the next certificate given its Client ID starts afresh', async () => {
    const owner = await pki.leaf('owner-deleted', ca, { cn: 'owner-deleted' })
    const registered = await certmq.api<{ id: string }>('POST', '/api/v1/certificates', { caId, certificatePem: owner.pem, clientId: 'pump-3' })
    expect(registered.status).toBe(201)
    // the registered Client ID, sent as the client ID (mqtt.js sends no empty one with clean=false)
    const first = await connectAs(owner, 'pump-3')
    await first.client.subscribeAsync('pump-3/cmd', { qos: 1 })
    await endClient(first.client)
    await publishTo('pump-3/cmd', ['stop'])
    expect((await certmq.api('POST', `/api/v1/certificates/${registered.body.id}/deactivate`)).status).toBe(200)
    expect((await certmq.api('DELETE', `/api/v1/certificates/${registered.body.id}`)).status).toBe(200)
    expect(await discarded('pump-3')).toMatchObject({ reason: 'certificate_deleted', fingerprint: registered.body.id, queued: 1 })

    const successor = await pki.leaf('owner-successor', ca, { cn: 'owner-successor' })
    expect((await certmq.api('POST', '/api/v1/certificates', { caId, certificatePem: successor.pem, clientId: 'pump-3' })).status).toBe(201)
    const taker = await connectAs(successor, 'pump-3')
    expect(taker.sessionPresent).toBe(false)
    await settle()
    expect(taker.received).toEqual([])
    await endClient(taker.client)
  })

  it('discards it when the certificate is deleted with its CA, so a certificate given its client ID starts afresh', async () => {
    const goneCa = await pki.ca('gone-fleet')
    const created = await certmq.api<{ id: string }>('POST', '/api/v1/cas', { certificatePem: goneCa.pem, registrationMode: 'auto' })
    expect(created.status).toBe(201)
    const owner = await pki.leaf('owner-ca-gone', goneCa, { cn: 'owner-ca-gone' })
    const first = await connectAs(owner, 'van-2')
    await first.client.subscribeAsync('van-2/cmd', { qos: 1 })
    await endClient(first.client)
    await publishTo('van-2/cmd', ['open'])
    // a CA is deleted only with certificates that are not active: a deactivation keeps the session
    expect((await certmq.api('POST', `/api/v1/certificates/${fingerprintOf(owner.pem)}/deactivate`)).status).toBe(200)
    expect((await certmq.api('DELETE', `/api/v1/cas/${created.body.id}`)).status).toBe(200)
    expect(await discarded('van-2')).toMatchObject({ reason: 'certificate_deleted', fingerprint: fingerprintOf(owner.pem), queued: 1 })

    const taker = await connectAs(await pki.leaf('owner-ca-next', ca, { cn: 'owner-ca-next' }), 'van-2')
    expect(taker.sessionPresent).toBe(false)
    await settle()
    expect(taker.received).toEqual([])
    await endClient(taker.client)
  })

  it('discards a connected device\'s session once its revocation has dropped it', async () => {
    const owner = await pki.leaf('owner-live', ca, { cn: 'owner-live' })
    const live = await connectAs(owner, 'truck-9')
    await live.client.subscribeAsync('truck-9/cmd', { qos: 1 })
    const closed = new Promise<void>((resolve) => { live.client.once('close', () => { resolve() }) })
    expect((await certmq.api('POST', `/api/v1/certificates/${fingerprintOf(owner.pem)}/revoke`, { confirm: true })).status).toBe(200)
    await closed
    expect(await discarded('truck-9')).toMatchObject({ reason: 'certificate_revoked', fingerprint: fingerprintOf(owner.pem), subscriptions: 1 })
    // dropped by the broker: nothing left to end gracefully
    live.client.end(true)
  })

  it('keeps the session through a deactivation: the device takes what was queued once it is active again', async () => {
    const owner = await pki.leaf('owner-paused', ca, { cn: 'owner-paused' })
    const first = await connectAs(owner, 'bus-4')
    await first.client.subscribeAsync('bus-4/cmd', { qos: 1 })
    await endClient(first.client)
    const id = fingerprintOf(owner.pem)
    expect((await certmq.api('POST', `/api/v1/certificates/${id}/deactivate`)).status).toBe(200)
    await publishTo('bus-4/cmd', ['route-12'])
    expect((await certmq.api('POST', `/api/v1/certificates/${id}/activate`)).status).toBe(200)
    const back = await connectAs(owner, 'bus-4')
    expect(back.sessionPresent).toBe(true)
    await waitFor(() => back.received.length > 0, { what: 'the queued message' })
    expect(back.received).toEqual(['route-12'])
    expect(certmq.logs.events('session.discarded').find((l) => l['clientId'] === 'bus-4')).toBeUndefined()
    await endClient(back.client)
  })
})
