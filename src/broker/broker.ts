/** The aedes broker with certmq's authentication hooks. */
import { Aedes } from 'aedes'
import type { AuthHooks } from '../auth/aedes-hooks.js'

export interface BrokerOptions {
  id: string
  hooks: AuthHooks
  connectTimeoutMs: number
}

export async function createBroker (options: BrokerOptions): Promise<Aedes> {
  const broker = await Aedes.createBroker({
    id: options.id,
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
