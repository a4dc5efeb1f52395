import { describe, expect, it } from 'vitest'
import { judgeGoal, medianInterval } from '../../../scripts/bench/lib.js'

const bounds = (xs: number[], confidence?: number): [number, number] | undefined => {
  const interval = medianInterval(xs, confidence)
  return interval === undefined ? undefined : [interval.low, interval.high]
}
const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

describe('medianInterval', () => {
  it('needs six values at 95%: with five, even min–max covers the median only 93.75% of the time', () => {
    expect(medianInterval([])).toBeUndefined()
    expect(medianInterval([1.2])).toBeUndefined()
    expect(medianInterval([1, 2, 3, 4, 5])).toBeUndefined()
    expect(medianInterval([1, 2, 3, 4, 5], 0.9)).toEqual({ low: 1, high: 5, coverage: 0.9375 })
    expect(medianInterval([6, 1, 5, 2, 4, 3])).toEqual({ low: 1, high: 6, coverage: 1 - 2 / 64 })
  })

  it('narrows to inner order statistics as the values grow in number', () => {
    // 8 values: (x2, x7) covers 93.0%, so 95% needs min–max; 90% takes (x2, x7)
    expect(medianInterval(oneTo(8))).toEqual({ low: 1, high: 8, coverage: 1 - 2 / 256 })
    expect(bounds(oneTo(8), 0.9)).toEqual([2, 7])
    // 9 values: (x2, x8) covers 96.1%
    expect(medianInterval(oneTo(9))).toEqual({ low: 2, high: 8, coverage: 1 - 2 * 10 / 512 })
    // 20 values: (x6, x15) covers 95.9%, (x7, x14) 88.5%
    expect(bounds(oneTo(20))).toEqual([6, 15])
    expect(medianInterval(oneTo(20))!.coverage).toBeCloseTo(0.9586, 4)
  })

  it('sorts by value, not as text', () => {
    // as strings, 10 and 100 would sort before 2
    expect(bounds([10, 9, 2, 1, 100, 3, 20, 0.5, 4], 0.9)).toEqual([1, 20])
  })

  it('refuses more values than it can count exactly', () => {
    expect(() => medianInterval(oneTo(1001))).toThrow(RangeError)
  })
})

describe('judgeGoal', () => {
  const around = (centre: number): number[] => [-0.03, -0.02, -0.01, 0, 0, 0.01, 0.02, 0.03].map((d) => centre + d)

  it('a ceiling is met only when the whole interval is under it, and missed when all of it is over', () => {
    expect(judgeGoal(around(1.0), { atMost: 1.1 }).verdict).toBe('met')
    expect(judgeGoal(around(1.2), { atMost: 1.1 }).verdict).toBe('missed')
    expect(judgeGoal(around(1.1), { atMost: 1.1 }).verdict).toBe('undecided')
  })

  it('a floor the other way round', () => {
    expect(judgeGoal(around(1.05), { atLeast: 1 }).verdict).toBe('met')
    expect(judgeGoal(around(0.85), { atLeast: 1 }).verdict).toBe('missed')
    expect(judgeGoal(around(1.0), { atLeast: 1 }).verdict).toBe('undecided')
  })

  it('counts a bound the interval reaches as inside the goal, and one it starts at from outside as undecided', () => {
    expect(judgeGoal([1.0, 1.02, 1.04, 1.05, 1.06, 1.1], { atMost: 1.1 }).verdict).toBe('met')
    expect(judgeGoal([1.1, 1.12, 1.14, 1.15, 1.16, 1.2], { atMost: 1.1 }).verdict).toBe('undecided')
    expect(judgeGoal([1.0, 1.02, 1.04, 1.05, 1.06, 1.1], { atLeast: 1 }).verdict).toBe('met')
    expect(judgeGoal([0.9, 0.92, 0.94, 0.95, 0.96, 1.0], { atLeast: 1 }).verdict).toBe('undecided')
  })

  it('a run like the morning one of 2026-11-29: CPU 1.01–1.44 is undecided, Mosquitto 0.69–0.98 missed', () => {
    const cpu = judgeGoal([1.01, 1.3, 1.23, 1.31, 1.11, 1.44, 1.06, 1.06], { atMost: 1.1 })
    expect(cpu).toMatchObject({ verdict: 'undecided', interval: { low: 1.01, high: 1.44 } })
    expect(cpu.median).toBeCloseTo(1.17, 5)
    expect(judgeGoal([0.78, 0.84, 0.8, 0.88, 0.98, 0.69, 0.89, 0.87], { atLeast: 1 }).verdict).toBe('missed')
  })

  it('says so when there are too few repetitions to decide', () => {
    expect(judgeGoal([1.5, 1.6, 1.7], { atMost: 1.1 })).toEqual({ verdict: 'too few repetitions', median: 1.6, interval: undefined })
  })
})
