/**
 * BoundedMemoryPersistence under a real aedes broker (plain TCP, mqtt.js): a device coming back
 * to a full queue has its subscriptions live a turn of the event loop before aedes registers it.
 */
import { connect as connectRaw, createServer, type AddressInfo, type Server } from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { BoundedMemoryPersistence } from '../../../src/broker/bounded-persistence.js'
import { waitFor } from '../../helpers/wait-for.js'

let broker: Aedes | undefined
let server: Server | undefined
const clients: mqtt.MqttClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true)
  await new Promise<void>((resolve) => { if (server === undefined) resolve(); else server.close(() => { resolve() }) })
  await new Promise<void>((resolve) => { if (broker === undefined) resolve(); else broker.close(() => { resolve() }) })
  server = undefined
  broker = undefined
})

async function start (persistence: BoundedMemoryPersistence): Promise<number> {
  broker = await Aedes.createBroker({ persistence })
  server = createServer(broker.handle)
  await new Promise<void>((resolve) => { server!.listen(0, '127.0.0.1', resolve) })
  return (server.address() as AddressInfo).port
}

async function connect (port: number, clientId: string, clean: boolean): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, clean, reconnectPeriod: 0 })
  clients.push(c)
  return c
}

const publishVia = async (topic: string, payload: string): Promise<void> => {
  await new Promise<void>((resolve, reject) => {
    broker!.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err?: Error) => { if (err) reject(err); else resolve() })
  })
}

describe('BoundedMemoryPersistence', () => {
  it('keeps a device that comes back to a full queue connected when a message arrives while aedes restores its session', async () => {
    const persistence = new BoundedMemoryPersistence({ maxQueuedMessages: 1, dropped: () => {} })
    const port = await start(persistence)
    const first = await connect(port, 'dev', false)
    await first.subscribeAsync('t', { qos: 1 })
    await first.endAsync()
    await publishVia('t', 'queued')
    // the queue is full: this one is not queued
    await publishVia('t', 'refused')

    // aedes restores the subscriptions, then stores the will (delWill), then registers the client:
    // a message published in between reaches the restored subscription while the client is not in
    // broker.clients yet
    const delWill = persistence.delWill.bind(persistence)
    let injected = false
    persistence.delWill = async (client) => {
      if (client.id === 'dev' && !injected) {
        injected = true
        // decided (not queued: the queue is full and the client not registered) before aedes goes on
        void publishVia('t', 'live')
        await new Promise((resolve) => setImmediate(resolve))
      }
      return await delWill(client)
    }
    // a device that takes its time to acknowledge (raw MQTT, no PUBACK): what aedes does with the
    // live message alone decides whether it stays connected
    const errors: string[] = []
    broker!.on('clientError', (_c, err) => { errors.push(err.message) })
    const received: string[] = []
    const socket = connectRaw(port)
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (packet) => { if (packet.cmd === 'publish') received.push(String(packet.payload)) })
    socket.on('data', (chunk) => { parser.parse(chunk) })
    let closed = false
    socket.on('close', () => { closed = true })
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: 'dev', keepalive: 0 }))
    try {
      await waitFor(() => received.length >= 2 || closed, { timeoutMs: 3000, what: 'both messages, or the device closed' })
      // and time for a close that would follow them
      await new Promise((resolve) => setTimeout(resolve, 200))
    } finally {
      // a connection left open would hold afterEach's server.close()
      socket.destroy()
    }
    expect(injected).toBe(true)
    // aedes found no queued packet to give the live message's messageId to, and closed the device
    expect(errors).toEqual([])
    expect(closed).toBe(false)
    expect(received).toContain('queued')
    expect(received).toContain('live')
  })
})
