import { describe, expect, it } from 'vitest'
import { SessionOwners } from '../../../src/broker/session-owners.js'
import { LocalStatusBus } from '../../../src/store/local-status-bus.js'
import { createLogger } from '../../../src/log.js'
import { LogSink } from '../../helpers/log-sink.js'

function owners (connected: Set<string> = new Set()): { owners: SessionOwners, bus: LocalStatusBus, discarded: string[] } {
  const bus = new LocalStatusBus()
  const discarded: string[] = []
  const store = {
    isConnected: (clientId: string) => connected.has(clientId),
    discardSession: async (clientId: string) => { discarded.push(clientId); return 0 }
  }
  const logs = new LogSink()
  return { owners: new SessionOwners(bus, store, createLogger('info', logs)), bus, discarded }
}

describe('SessionOwners', () => {
  it('discards every session a certificate holds, and none it handed over to another', async () => {
    const { owners: o, bus, discarded } = owners()
    o.connected('a', 'f1', false)
    o.connected('b', 'f1', false)
    o.connected('c', 'f1', false)
    o.connected('b', 'f2', false) // resumed by another certificate
    o.connected('c', 'f1', true) // ended by a clean session
    await bus.publish({ kind: 'certificate', id: 'f1', status: 'revoked' })
    expect(discarded).toEqual(['a'])
    await bus.publish({ kind: 'certificate', id: 'f1', status: 'deleted' })
    expect(discarded).toEqual(['a'])
    await bus.publish({ kind: 'certificate', id: 'f2', status: 'inactive' })
    expect(discarded).toEqual(['a'])
    await bus.publish({ kind: 'certificate', id: 'f2', status: 'deleted' })
    expect(discarded).toEqual(['a', 'b'])
  })

  it('waits for a connected session to go', async () => {
    const live = new Set(['a'])
    const { owners: o, bus, discarded } = owners(live)
    o.connected('a', 'f1', false)
    await bus.publish({ kind: 'certificate', id: 'f1', status: 'revoked' })
    expect(discarded).toEqual([])
    live.delete('a')
    o.disconnected('a')
    expect(discarded).toEqual(['a'])
  })
})
