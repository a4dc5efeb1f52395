import { describe, expect, it } from 'vitest'
import type { Client } from 'aedes'
import { SessionRegistry } from '../../../src/broker/sessions.js'
import { TrustStore } from '../../../src/auth/trust-store.js'
import { LocalStatusBus } from '../../../src/store/local-status-bus.js'
import { createLogger } from '../../../src/log.js'
import type { RegistryStore } from '../../../src/store/ports.js'
import { LogSink } from '../../helpers/log-sink.js'

/** The part of an aedes Client the registry uses: its id, and close() when a session is dropped. */
function client (id: string): Client & { closedBy: number } {
  const c = { id, closed: false, closedBy: 0, close () { c.closed = true; c.closedBy++ } }
  return c as unknown as Client & { closedBy: number }
}

function registry (): { sessions: SessionRegistry, bus: LocalStatusBus, logs: LogSink } {
  const bus = new LocalStatusBus()
  const logs = new LogSink()
  // certificate status events never reach the trust store; CA sweeps are covered by the integration tests
  const trust = new TrustStore({} as unknown as RegistryStore)
  return { sessions: new SessionRegistry(bus, trust, createLogger('info', logs)), bus, logs }
}

describe('SessionRegistry', () => {
  it('drops every client of a certificate whose status changes, one client or several', async () => {
    const { sessions, bus } = registry()
    const alone = client('alone')
    const [first, second, third] = [client('first'), client('second'), client('third')]
    sessions.track(alone, 'f1')
    for (const c of [first, second, third]) sessions.track(c, 'f2')
    expect(sessions.size).toBe(4)

    await bus.publish({ kind: 'certificate', id: 'f2', status: 'revoked' })
    expect([first, second, third].map((c) => c.closedBy)).toEqual([1, 1, 1])
    expect(alone.closedBy).toBe(0)
    expect(sessions.size).toBe(1)

    await bus.publish({ kind: 'certificate', id: 'f1', status: 'inactive' })
    expect(alone.closedBy).toBe(1)
    expect(sessions.size).toBe(0)
    // nothing left to drop: a second event closes no one again
    await bus.publish({ kind: 'certificate', id: 'f2', status: 'deleted' })
    expect([first, second, third, alone].map((c) => c.closedBy)).toEqual([1, 1, 1, 1])
  })

  it('keeps the clients still connected when others of the same certificate leave', async () => {
    const { sessions, bus } = registry()
    const [a, b, c] = [client('a'), client('b'), client('c')]
    for (const x of [a, b, c]) sessions.track(x, 'f')
    sessions.untrack(b)
    sessions.untrack(a)
    expect(sessions.fingerprintOf(a)).toBeUndefined()
    expect(sessions.fingerprintOf(c)).toBe('f')
    // tracked again after dropping to one: held alongside, not in place of, the one left
    sessions.track(a, 'f')
    await bus.publish({ kind: 'certificate', id: 'f', status: 'revoked' })
    expect([a.closedBy, b.closedBy, c.closedBy]).toEqual([1, 0, 1])
    expect(sessions.size).toBe(0)
  })

  it('forgets a certificate once its last client leaves, and tracking the same client twice keeps one entry', async () => {
    const { sessions, bus } = registry()
    const a = client('a')
    sessions.track(a, 'f')
    sessions.track(a, 'f')
    sessions.untrack(a)
    expect(sessions.size).toBe(0)
    sessions.untrack(a) // a second close is harmless
    await bus.publish({ kind: 'certificate', id: 'f', status: 'revoked' })
    expect(a.closedBy).toBe(0)
  })

  it('leaves active certificates alone and logs each dropped session with its reason', async () => {
    const { sessions, bus, logs } = registry()
    const a = client('dev-1')
    sessions.track(a, 'f')
    await bus.publish({ kind: 'certificate', id: 'f', status: 'active' })
    expect(a.closedBy).toBe(0)
    await bus.publish({ kind: 'certificate', id: 'f', status: 'deleted' })
    expect(a.closedBy).toBe(1)
    expect(logs.events('session.dropped')).toEqual([
      expect.objectContaining({ reason: 'deleted', fingerprint: 'f', clientId: 'dev-1' })
    ])
  })
})
