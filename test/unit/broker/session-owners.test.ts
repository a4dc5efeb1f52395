import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SessionOwners, type DiscardReason } from '../../../src/broker/session-owners.js'
import { LocalStatusBus } from '../../../src/store/local-status-bus.js'
import { createLogger } from '../../../src/log.js'
import { LogSink } from '../../helpers/log-sink.js'

interface Harness {
  owners: SessionOwners
  bus: LocalStatusBus
  discarded: string[]
  reasons: DiscardReason[]
  logs: LogSink
}

function owners (connected: Set<string> = new Set(), expiryMs = 0): Harness {
  const bus = new LocalStatusBus()
  const discarded: string[] = []
  const reasons: DiscardReason[] = []
  const store = {
    isConnected: (clientId: string) => connected.has(clientId),
    discardSession: async (clientId: string) => { discarded.push(clientId); return clientId.startsWith('pub-') ? { subscriptions: 0, queued: 0 } : { subscriptions: 1, queued: 2 } }
  }
  const logs = new LogSink()
  const o = new SessionOwners(bus, store, createLogger('info', logs), {
    expiryMs,
    clock: () => Date.now(),
    onDiscarded: (reason) => { reasons.push(reason) }
  })
  return { owners: o, bus, discarded, reasons, logs }
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

  it('says why it discarded each session, in the log and to its listener', async () => {
    const { owners: o, bus, reasons, logs } = owners()
    o.connected('a', 'f1', false)
    o.connected('b', 'f2', false)
    await bus.publish({ kind: 'certificate', id: 'f1', status: 'revoked' })
    await bus.publish({ kind: 'certificate', id: 'f2', status: 'deleted' })
    await vi.waitFor(() => { expect(reasons).toEqual(['certificate_revoked', 'certificate_deleted']) })
    const lines = logs.events('session.discarded')
    expect(lines.map((line) => [line.clientId, line.reason, line.subscriptions, line.queued])).toEqual([['a', 'certificate_revoked', 1, 2], ['b', 'certificate_deleted', 1, 2]])
  })

  it('ends a session that held nothing (a device that only publishes) without a line at info or a count', async () => {
    const { owners: o, bus, discarded, reasons, logs } = owners()
    o.connected('pub-1', 'f1', false)
    await bus.publish({ kind: 'certificate', id: 'f1', status: 'revoked' })
    await vi.waitFor(() => { expect(discarded).toEqual(['pub-1']) })
    await new Promise((resolve) => setImmediate(resolve))
    expect(reasons).toEqual([])
    expect(logs.events('session.discarded')).toEqual([])
  })
})

describe('SessionOwners: expiry', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('discards a session once its device has been away for the expiry, not before', async () => {
    const { owners: o, discarded, reasons } = owners(new Set(), 10_000)
    o.connected('a', 'f1', false)
    o.disconnected('a')
    expect(o.awayCount).toBe(1)
    await vi.advanceTimersByTimeAsync(9_999)
    expect(discarded).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(discarded).toEqual(['a'])
    expect(reasons).toEqual(['expired'])
    expect(o.awayCount).toBe(0)
    o.close()
  })

  it('counts from the last disconnect: a device that came back and went again has the whole expiry again', async () => {
    const { owners: o, discarded } = owners(new Set(), 10_000)
    o.connected('a', 'f1', false)
    o.disconnected('a')
    o.connected('b', 'f2', false)
    o.disconnected('b')
    await vi.advanceTimersByTimeAsync(6_000)
    o.connected('a', 'f1', false)
    expect(o.awayCount).toBe(1)
    await vi.advanceTimersByTimeAsync(3_000)
    o.disconnected('a')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(discarded).toEqual(['b'])
    await vi.advanceTimersByTimeAsync(8_999)
    expect(discarded).toEqual(['b'])
    await vi.advanceTimersByTimeAsync(1)
    expect(discarded).toEqual(['b', 'a'])
    o.close()
  })

  it('keeps a session whose device is connected again under the same client ID, and clean sessions are never held', async () => {
    const live = new Set<string>()
    const { owners: o, discarded } = owners(live, 1_000)
    o.connected('a', 'f1', false)
    // a takeover: the new connection is admitted, then the one it replaced is closed
    o.connected('a', 'f1', false)
    live.add('a')
    o.disconnected('a')
    o.connected('c', 'f3', true)
    o.disconnected('c')
    expect(o.awayCount).toBe(1)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(discarded).toEqual([])
    expect(o.awayCount).toBe(0)
    // when that device goes in turn, its session expires as any other
    live.delete('a')
    o.disconnected('a')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(discarded).toEqual(['a'])
    o.close()
  })

  it('never expires a session with expiry 0, though it counts it away; close() stops the timer', async () => {
    const never = owners(new Set(), 0)
    never.owners.connected('a', 'f1', false)
    never.owners.disconnected('a')
    expect(never.owners.awayCount).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(400 * 86_400_000)
    expect(never.discarded).toEqual([])
    const closed = owners(new Set(), 1_000)
    closed.owners.connected('a', 'f1', false)
    closed.owners.disconnected('a')
    closed.owners.close()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(closed.discarded).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not expire a session that already went with its certificate a second time', async () => {
    const { owners: o, bus, discarded, reasons } = owners(new Set(), 1_000)
    o.connected('a', 'f1', false)
    o.disconnected('a')
    await bus.publish({ kind: 'certificate', id: 'f1', status: 'revoked' })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(discarded).toEqual(['a'])
    expect(reasons).toEqual(['certificate_revoked'])
    o.close()
  })

  it('waits past a delay longer than Node\'s longest timer', async () => {
    const days60 = 60 * 86_400_000
    const { owners: o, discarded } = owners(new Set(), days60)
    o.connected('a', 'f1', false)
    o.disconnected('a')
    await vi.advanceTimersByTimeAsync(days60 - 1)
    expect(discarded).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(discarded).toEqual(['a'])
    o.close()
  })
})
