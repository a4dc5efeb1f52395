/** The aedes broker with certmq's authentication hooks. */
import { Aedes } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { AuthHooks } from '../auth/aedes-hooks.js'
import { BoundedMemoryPersistence } from './bounded-persistence.js'

export interface BrokerOptions {
  id: string
  hooks: AuthHooks
  connectTimeoutMs: number
  /** sessions.maxQueuedMessages: the most messages queued for one offline client (0: no bound). */
  maxQueuedMessages: number
  /** A message not queued for an offline client; `first` once per filling of its queue. */
  onQueueFull: (clientId: string, first: boolean) => void
}

export async function createBroker (options: BrokerOptions): Promise<Aedes> {
  // mqtt-packet otherwise keeps 65,536 two-byte Buffers (every 16-bit number it may write) alive
  // for the life of the process, and every major GC marks them
  mqttPacket.writeToStream.cacheNumbers = false
  // the broker is made with it, and only then can it answer who is connected
  let connected: (clientId: string) => boolean = () => false
  const persistence = new BoundedMemoryPersistence({
    maxQueuedMessages: options.maxQueuedMessages,
    isConnected: (clientId) => connected(clientId),
    dropped: options.onQueueFull
  })
  const broker = await Aedes.createBroker({
    id: options.id,
    persistence,
    connectTimeout: options.connectTimeoutMs,
    preConnect: options.hooks.preConnect,
    authenticate: options.hooks.authenticate
  })
  // aedes keeps its connected clients by id in `clients` (registerClient); its types leave it out
  const clients: unknown = Reflect.get(broker, 'clients')
  if (typeof clients !== 'object' || clients === null) throw new Error('aedes: no clients table to bound offline queues with')
  connected = (clientId) => Object.hasOwn(clients, clientId)
  broker.on('clientReady', options.hooks.onClientReady)
  broker.on('clientDisconnect', options.hooks.onClientDisconnect)
  return broker
}

export async function closeBroker (broker: Aedes): Promise<void> {
  await new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
}
