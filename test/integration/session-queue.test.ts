/**
 * sessions.maxQueuedMessages: what a broker queues for an offline persistent session is bounded,
 * a connected one is not, and the bound frees as the device takes its messages. Real MQTTS
 * devices (mqtt.js) with openssl-made certificates under an automatic CA.
 */
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'
import { OpenSslPki, type OpenSslCert } from '../helpers/openssl.js'
import { parseExposition } from '../helpers/prometheus.js'
import { waitFor } from '../helpers/wait-for.js'

const LIMIT = 5
let pki: OpenSslPki
let certmq: TestCertmq
let subscriber: OpenSslCert
let publisher: OpenSslCert

beforeAll(async () => {
  pki = await OpenSslPki.create()
  certmq = await startCertmq({ CERTMQ_SESSIONS_MAX_QUEUED_MESSAGES: String(LIMIT) })
  const ca = await pki.ca('queue-fleet')
  expect((await certmq.api('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })).status).toBe(201)
  subscriber = await pki.leaf('queue-sub', ca, { cn: 'queue-sub' })
  publisher = await pki.leaf('queue-pub', ca, { cn: 'queue-pub' })
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

/** The subscriber's persistent session, collecting what arrives on queue/#. */
async function connectSubscriber (): Promise<{ client: MqttClient, received: string[] }> {
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: subscriber.pem, keyPem: subscriber.keyPem },
    { clientId: 'queue-sub', clean: false })
  expect(code).toBe(0)
  const received: string[] = []
  client!.on('message', (_topic, payload) => { received.push(payload.toString()) })
  return { client: client!, received }
}

async function publish (payloads: string[]): Promise<void> {
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: publisher.pem, keyPem: publisher.keyPem }, { clientId: 'queue-pub' })
  expect(code).toBe(0)
  for (const payload of payloads) await client!.publishAsync('queue/telemetry', payload, { qos: 1 })
  await endClient(client)
}

async function dropped (): Promise<number> {
  const text = await (await fetch(`${certmq.adminUrl}/metrics`)).text()
  return parseExposition(text).get('certmq_messages_dropped_total{reason="queue_full"}') ?? 0
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
    await new Promise((resolve) => setTimeout(resolve, 300))
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
