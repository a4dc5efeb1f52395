/** The aedes broker with certmq's authentication hooks. */
import { Aedes } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { AuthHooks } from '../auth/aedes-hooks.js'
import type { BoundedMemoryPersistence } from './bounded-persistence.js'

export interface BrokerOptions {
  id: string
  hooks: AuthHooks
  connectTimeoutMs: number
  /** Sessions and queued messages, with sessions.maxQueuedMessages applied (bounded-persistence.ts). */
  persistence: BoundedMemoryPersistence
}

export async function createBroker (options: BrokerOptions): Promise<Aedes> {
  // mqtt-packet otherwise keeps 65,536 two-byte Buffers (every 16-bit number it may write) alive
  // for the life of the process, and every major GC marks them
  mqttPacket.writeToStream.cacheNumbers = false
  const broker = await Aedes.createBroker({
    id: options.id,
    persistence: options.persistence,
    connectTimeout: options.connectTimeoutMs,
    preConnect: options.hooks.preConnect,
    authenticate: options.hooks.authenticate
  })
  broker.on('clientReady', options.hooks.onClientReady)
  broker.on('clientDisconnect', options.hooks.onClientDisconnect)
  return broker
}

export async function closeBroker (broker: Aedes): Promise<void> {
  await new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
}
