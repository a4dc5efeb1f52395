/**
 * sessions.expirySeconds: a persistent session (clean=false) whose device stays away longer than
 * the expiry is discarded with its subscription and queued messages; one back in time resumes.
 * Real MQTTS devices (mqtt.js) with openssl-made certificates against a certmq started here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, connectPersistent, endClient, publishAs, RawMqttSession, type PersistentDevice } from '../helpers/mqtt.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa, type OpenSslCert } from '../helpers/openssl.js'
import { scrapeMetrics } from '../helpers/prometheus.js'
import { waitFor } from '../helpers/wait-for.js'

// long enough for a publish after the device left to be queued before its session expires, on a busy CI machine
const EXPIRY_SECONDS = 3
let pki: OpenSslPki
let certmq: TestCertmq
let ca: OpenSslCa
let publisher: OpenSslCert

beforeAll(async () => {
  pki = await OpenSslPki.create()
  certmq = await startCertmq({ CERTMQ_SESSIONS_EXPIRY_SECONDS: String(EXPIRY_SECONDS) })
  ca = await pki.ca('expiry-fleet')
  expect((await certmq.api('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })).status).toBe(201)
  publisher = await pki.leaf('expiry-pub', ca, { cn: 'expiry-pub' })
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

async function connectAs (device: OpenSslCert, clientId: string): Promise<PersistentDevice> {
  return await connectPersistent(certmq, device, clientId)
}

async function publishTo (topic: string, payload: string): Promise<void> {
  await publishAs(certmq, publisher, 'expiry-pub', topic, [payload])
}

async function metric (name: string): Promise<number | undefined> {
  return (await scrapeMetrics(certmq.adminUrl)).get(name)
}

describe('sessions.expirySeconds', () => {
  it('resumes a session within the expiry and discards it, with what was queued, once the device has been away longer', async () => {
    const device = await pki.leaf('expiry-dev', ca, { cn: 'expiry-dev' })
    const first = await connectAs(device, 'tractor-1')
    await first.client.subscribeAsync('tractor-1/cmd', { qos: 1 })
    await endClient(first.client)
    await publishTo('tractor-1/cmd', 'plough')

    // back in time: the session and its queued message are there
    const back = await connectAs(device, 'tractor-1')
    expect(back.sessionPresent).toBe(true)
    await waitFor(() => back.received.length > 0, { what: 'the queued message' })
    expect(back.received).toEqual(['plough'])
    await endClient(back.client)
    const awayFrom = Date.now()
    await waitFor(async () => await metric('certmq_sessions_away') === 1, { what: 'one session away' })
    await publishTo('tractor-1/cmd', 'harvest')

    const discarded = await waitFor(() => certmq.logs.events('session.discarded').find((line) => line['clientId'] === 'tractor-1'),
      { what: 'session.discarded', timeoutMs: (EXPIRY_SECONDS + 5) * 1000 })
    // counted from the last disconnect, not the first
    expect(Date.now() - awayFrom).toBeGreaterThanOrEqual(EXPIRY_SECONDS * 1000 - 50)
    expect(discarded).toMatchObject({ reason: 'expired', fingerprint: fingerprintOf(device.pem), subscriptions: 1, queued: 1 })
    expect(await metric('certmq_sessions_discarded_total{reason="expired"}')).toBe(1)
    expect(await metric('certmq_sessions_away')).toBe(0)

    // the device starts afresh: no session, no subscription, nothing queued
    const late = await connectAs(device, 'tractor-1')
    expect(late.sessionPresent).toBe(false)
    await publishTo('tractor-1/cmd', 'park')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(late.received).toEqual([])
    await endClient(late.client)
    // a clean session ends the persistent one at once: nothing is left away for the next test
    const clean = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: device.pem, keyPem: device.keyPem }, { clientId: 'tractor-1', clean: true })
    expect(clean.code).toBe(0)
    await endClient(clean.client)
    await waitFor(async () => await metric('certmq_sessions_away') === 0, { what: 'no session away' })
  })

  it('expires the session of a device whose new connection took over as its previous one closed', async () => {
    const device = await pki.leaf('expiry-swap', ca, { cn: 'expiry-swap' })
    const credentials = { certPem: device.pem, keyPem: device.keyPem }
    // the previous connection subscribed: its close takes aedes a turn of the event loop (unsubscribing)
    const previous = await RawMqttSession.open(certmq.mqttsPort, certmq.serverCaPem, credentials)
    previous.sendConnect('harrow-1', true)
    expect(await previous.next('connack')).toMatchObject({ returnCode: 0 })
    previous.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'harrow-1/status', qos: 1 }] })
    await previous.next('suback')
    // the new connection's CONNECT (a new persistent session: nothing to restore, so aedes
    // registers it at once) arrives with the previous one's close
    const next = await RawMqttSession.open(certmq.mqttsPort, certmq.serverCaPem, credentials)
    next.sendConnect('harrow-1', false)
    previous.close()
    expect(await next.next('connack')).toMatchObject({ returnCode: 0, sessionPresent: false })
    next.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'harrow-1/cmd', qos: 1 }] })
    await next.next('suback')
    next.close()

    await waitFor(async () => await metric('certmq_connections_current') === 0, { what: 'no connection left' })
    await waitFor(async () => await metric('certmq_sessions_away') === 1, { what: 'the session away' })
    const discarded = await waitFor(() => certmq.logs.events('session.discarded').find((line) => line['clientId'] === 'harrow-1'),
      { what: 'session.discarded', timeoutMs: (EXPIRY_SECONDS + 5) * 1000 })
    expect(discarded).toMatchObject({ reason: 'expired', fingerprint: fingerprintOf(device.pem) })
  })
})
