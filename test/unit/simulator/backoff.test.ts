import { describe, expect, it } from 'vitest'
import { backoffDelay, type BackoffPolicy } from '../../../src/simulator/backoff.js'

const policy: BackoffPolicy = { initialMs: 100, maxMs: 2000, factor: 2, jitter: 0.5 }

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay and stops at the cap', () => {
    const noJitter = { ...policy, jitter: 0 }
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(noJitter, n))).toEqual([100, 200, 400, 800, 1600, 2000, 2000])
  })

  it('takes at most the jitter share off, so a fleet dropped at once spreads out', () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(400)
    expect(backoffDelay(policy, 2, () => 1)).toBe(200)
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(300)
    const spread = new Set(Array.from({ length: 50 }, (_, i) => backoffDelay(policy, 3, () => i / 50)))
    expect(spread.size).toBeGreaterThan(40)
  })

  it('treats a negative attempt as the first and clamps jitter to 0–1', () => {
    expect(backoffDelay({ ...policy, jitter: 0 }, -3)).toBe(100)
    expect(backoffDelay({ ...policy, jitter: 7 }, 0, () => 1)).toBe(0)
    expect(backoffDelay({ ...policy, jitter: -1 }, 0, () => 1)).toBe(100)
  })
})
