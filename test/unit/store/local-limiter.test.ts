import { describe, expect, it } from 'vitest'
import { LocalRegistrationLimiter } from '../../../src/store/local-limiter.js'

describe('LocalRegistrationLimiter: at most N in any sliding second', () => {
  it('grants exactly N of a burst and refuses the rest at once', () => {
    let now = 10_000
    const limiter = new LocalRegistrationLimiter(15, () => now)
    const grants = Array.from({ length: 200 }, () => limiter.tryAcquireSync()).filter(Boolean)
    expect(grants).toHaveLength(15)
  })
  it('does not let 2N through across a window edge (unlike a fixed window)', () => {
    let now = 0
    const limiter = new LocalRegistrationLimiter(15, () => now)
    now = 990
    for (let i = 0; i < 15; i++) expect(limiter.tryAcquireSync()).toBe(true)
    now = 1010 // a fixed 1 s window would have refilled here
    expect(limiter.tryAcquireSync()).toBe(false)
    now = 1990
    expect(limiter.tryAcquireSync()).toBe(true)
  })
  it('never grants more than N in any 1000 ms window over a steady overload', () => {
    let now = 0
    const limiter = new LocalRegistrationLimiter(5, () => now)
    const granted: number[] = []
    for (now = 0; now < 5000; now += 7) if (limiter.tryAcquireSync()) granted.push(now)
    for (const t of granted) expect(granted.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5)
    expect(granted.length).toBeGreaterThanOrEqual(25)
  })
})
