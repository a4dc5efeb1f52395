import { describe, expect, it } from 'vitest'
import { EventIdSequence, eventFilter, eventIdFloor, formatEventId, parseEventId, type AuditEvent } from '../../../src/domain/event.js'

describe('event ids', () => {
  it('sort by time, then by sequence within a millisecond, as strings', () => {
    const ids = [formatEventId(1_000, 2), formatEventId(999, 7), formatEventId(1_000, 0), formatEventId(10_000, 0)]
    expect([...ids].sort()).toEqual([formatEventId(999, 7), formatEventId(1_000, 0), formatEventId(1_000, 2), formatEventId(10_000, 0)])
    expect(parseEventId(formatEventId(1_763_912_345_678, 42))).toEqual({ ms: 1_763_912_345_678, sequence: 42 })
    expect(parseEventId('not-an-id')).toBeUndefined()
  })

  it('floor(ms) sorts between the ids of ms - 1 and those of ms', () => {
    expect(formatEventId(1_999, 999_999) < eventIdFloor(2_000)).toBe(true)
    expect(eventIdFloor(2_000) < formatEventId(2_000, 0)).toBe(true)
  })

  it('only ever grow, even when the clock steps back', () => {
    const sequence = new EventIdSequence()
    const ids = [5_000, 5_000, 4_000, 5_001, 5_001].map((ms) => sequence.next(ms).id)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids[2]).toBe(formatEventId(5_000, 2))
  })
})

describe('eventFilter', () => {
  const event: AuditEvent = {
    id: formatEventId(1, 0), time: new Date(1).toISOString(), type: 'connect.rejected', actor: 'device',
    target: { kind: 'certificate', id: 'ab' }, reason: 'revoked', count: 3, details: {}
  }

  it('combines type (any of), actor, targetId and reason', () => {
    expect(eventFilter({ limit: 1 })(event)).toBe(true)
    expect(eventFilter({ limit: 1, types: ['ca.deleted', 'connect.rejected'], actor: 'device', targetId: 'ab', reason: 'revoked' })(event)).toBe(true)
    expect(eventFilter({ limit: 1, types: ['ca.deleted'] })(event)).toBe(false)
    expect(eventFilter({ limit: 1, actor: 'admin' })(event)).toBe(false)
    expect(eventFilter({ limit: 1, targetId: 'cd' })(event)).toBe(false)
    expect(eventFilter({ limit: 1, reason: 'expired' })(event)).toBe(false)
    expect(eventFilter({ limit: 1, targetId: 'ab' })({ ...event, target: null })).toBe(false)
  })
})
