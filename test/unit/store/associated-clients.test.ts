/** Folding queued associated-client changes into a certificate's stored list (one write per flush). */
import { describe, expect, it } from 'vitest'
import type { AssociatedClient } from '../../../src/domain/certificate.js'
import { applyClientChanges, withAllDisconnected, type ClientChange } from '../../../src/store/embedded/associated-clients.js'

const at = (s: number): string => new Date(Date.UTC(2026, 10, 27, 12, 0, s)).toISOString()
const client = (clientId: string, node: string, s: number, remoteAddress = '192.0.2.1'): AssociatedClient =>
  ({ clientId, node, connected: true, remoteAddress, connectedAt: at(s), lastSeenAt: at(s) })
const connected = (c: AssociatedClient): ClientChange => ({ client: c })
const disconnected = (clientId: string, node: string, s: number): ClientChange => ({ disconnected: { clientId, node, at: at(s) } })

describe('applyClientChanges', () => {
  it('applies connects and disconnects oldest first: a connect then its disconnect in one batch leaves the entry disconnected', () => {
    const next = applyClientChanges([], [connected(client('truck-1', 'a', 1)), connected(client('truck-2', 'a', 2)), disconnected('truck-1', 'a', 3)], true)
    expect(next.map((e) => [e.clientId, e.connected, e.lastSeenAt])).toEqual([['truck-2', true, at(2)], ['truck-1', false, at(3)]])
  })

  it('puts a reconnect of the same (clientId, node) first again with its new address, once', () => {
    const stored = [client('truck-2', 'a', 2), client('truck-1', 'a', 1)]
    const next = applyClientChanges(stored, [disconnected('truck-1', 'a', 5), connected(client('truck-1', 'a', 6, '198.51.100.7'))], true)
    expect(next.map((e) => [e.clientId, e.connected, e.remoteAddress])).toEqual([['truck-1', true, '198.51.100.7'], ['truck-2', true, '192.0.2.1']])
  })

  it('returns the stored list itself when nothing applies, so the store skips the write', () => {
    const stored = [client('truck-1', 'a', 1)]
    expect(applyClientChanges(stored, [disconnected('truck-9', 'a', 2)], true)).toBe(stored)
    // the certificate was deleted since the device connected: nothing to attach to
    expect(applyClientChanges(stored, [connected(client('truck-2', 'a', 3))], false)).toBe(stored)
  })

  it('keeps at most 20 entries, newest first', () => {
    const changes = Array.from({ length: 25 }, (_, i) => connected(client(`truck-${i}`, 'a', i)))
    const next = applyClientChanges([], changes, true)
    expect(next).toHaveLength(20)
    expect(next[0]!.clientId).toBe('truck-24')
    expect(next[19]!.clientId).toBe('truck-5')
  })
})

describe('withAllDisconnected', () => {
  it('marks every connected entry, in place and keeping lastSeenAt, and says when there is nothing to write', () => {
    const stored = [client('truck-1', 'a', 3), client('truck-1', 'b', 2), { ...client('truck-2', 'a', 1), connected: false }]
    expect(withAllDisconnected(stored)?.map((e) => [e.clientId, e.node, e.connected, e.lastSeenAt])).toEqual([
      ['truck-1', 'a', false, at(3)], ['truck-1', 'b', false, at(2)], ['truck-2', 'a', false, at(1)]
    ])
    expect(withAllDisconnected([stored[2]!])).toBeUndefined()
  })
})
