/** The aedes broker with certmq's authentication hooks. */
import { Aedes, type Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { AuthHooks } from '../auth/aedes-hooks.js'
import type { BoundedMemoryPersistence } from './bounded-persistence.js'
import { clientsTableOf } from './aedes-clients.js'

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
  unregisterOnlyItself(broker)
  return broker
}

/**
 * aedes' client.close() unregisters by client ID whenever any client holds that ID. A connection
 * that closed as a new one with its client ID registered (its unsubscribing takes a turn of the
 * event loop, and the new one, with no subscriptions to restore, found it closed already and took
 * its place) so removed the new one from `broker.clients`: that one's own close then told no
 * clientDisconnect, so its persistent session was never away and never expired, its certificate
 * kept it as connected, the connections gauge never went down and the queue bound took it for
 * offline. The closing one is still unregistered (counted out, its clientDisconnect told); the
 * one that holds its ID now stays.
 */
function unregisterOnlyItself (broker: Aedes): void {
  const table = clientsTableOf(broker, 'unregister from')
  const unregister: unknown = Reflect.get(broker, 'unregisterClient')
  if (typeof unregister !== 'function') throw new Error('aedes: no unregisterClient to wrap')
  Reflect.set(broker, 'unregisterClient', function (this: Aedes, client: Client): void {
    const holder = table[client.id]
    unregister.call(this, client)
    if (holder !== undefined && holder !== client) table[client.id] = holder
  })
}

export async function closeBroker (broker: Aedes): Promise<void> {
  await new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
}
