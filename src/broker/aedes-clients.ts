import type { Client } from 'aedes'

/**
 * aedes' table of its registered clients by client ID (`broker.clients`, filled by registerClient),
 * which its types leave out. Throws when an aedes version no longer has it, naming `use`.
 */
export function clientsTableOf (broker: object, use: string): Record<string, Client | undefined> {
  const clients: unknown = Reflect.get(broker, 'clients')
  if (typeof clients !== 'object' || clients === null) throw new Error(`aedes: no clients table to ${use}`)
  return clients as Record<string, Client | undefined>
}
