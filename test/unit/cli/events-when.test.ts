import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { parseWhen } from '../../../src/cli/commands/events.js'

describe('certmq events --since / --until', () => {
  const now = Date.parse('2026-03-01T12:00:00Z')

  it('turns 30s, 15m, 2h and 7d into the instant that long ago', () => {
    expect(parseWhen('30s', now)).toBe('2026-03-01T11:59:30.000Z')
    expect(parseWhen('15m', now)).toBe('2026-03-01T11:45:00.000Z')
    expect(parseWhen('2h', now)).toBe('2026-03-01T10:00:00.000Z')
    expect(parseWhen('7d', now)).toBe('2026-02-22T12:00:00.000Z')
  })

  it('passes an ISO date or instant on for the API to check', () => {
    expect(parseWhen('2026-02-01T00:00:00Z', now)).toBe('2026-02-01T00:00:00Z')
  })

  it('refuses anything else as a usage error', () => {
    expect(() => parseWhen('yesterday', now)).toThrow(InvalidArgumentError)
    expect(() => parseWhen('15 minutes', now)).toThrow(InvalidArgumentError)
  })
})
