import { describe, expect, it } from 'vitest'
import { goalVerdict, medianInterval } from '../../../scripts/bench/lib.js'

describe('medianInterval', () => {
  it('needs six values at 95%: with five, even min–max covers the median only 93.75% of the time', () => {
    expect(medianInterval([1, 2, 3, 4, 5])).toBeUndefined()
    expect(medianInterval([1, 2, 3, 4, 5], 0.9)).toEqual([1, 5])
    expect(medianInterval([6, 1, 5, 2, 4, 3])).toEqual([1, 6])
  })

  it('narrows to inner order statistics as the values grow in number', () => {
    const xs = Array.from({ length: 8 }, (_, i) => i + 1)
    // 8 values: (x2, x7) covers 93.0%, so 95% needs min–max; 90% takes (x2, x7)
    expect(medianInterval(xs)).toEqual([1, 8])
    expect(medianInterval(xs, 0.9)).toEqual([2, 7])
    // 20 values: (x6, x15) covers 95.9%, (x7, x14) 88.5%
    expect(medianInterval(Array.from({ length: 20 }, (_, i) => i + 1))).toEqual([6, 15])
  })

  it('sorts what it is given', () => {
    expect(medianInterval([1.3, 1.01, 1.2, 1.44, 1.06, 1.11, 1.23, 1.31], 0.9)).toEqual([1.06, 1.31])
  })
})

describe('goalVerdict', () => {
  const around = (centre: number): number[] => [-0.03, -0.02, -0.01, 0, 0, 0.01, 0.02, 0.03].map((d) => centre + d)

  it('a ceiling is met only when the whole interval is under it, and missed when all of it is over', () => {
    expect(goalVerdict(around(1.0), { atMost: 1.1 })).toBe('met')
    expect(goalVerdict(around(1.2), { atMost: 1.1 })).toBe('missed')
    expect(goalVerdict(around(1.1), { atMost: 1.1 })).toBe('undecided')
  })

  it('a floor the other way round', () => {
    expect(goalVerdict(around(1.05), { atLeast: 1 })).toBe('met')
    expect(goalVerdict(around(0.85), { atLeast: 1 })).toBe('missed')
    expect(goalVerdict(around(1.0), { atLeast: 1 })).toBe('undecided')
  })

  it('the morning run of 2026-11-29: CPU 1.01–1.44 is undecided, Mosquitto 0.69–0.98 missed', () => {
    expect(goalVerdict([1.01, 1.3, 1.23, 1.31, 1.11, 1.44, 1.06, 1.06], { atMost: 1.1 })).toBe('undecided')
    expect(goalVerdict([0.78, 0.84, 0.8, 0.88, 0.98, 0.69, 0.89, 0.87], { atLeast: 1 })).toBe('missed')
  })

  it('says so when there are too few repetitions to decide', () => {
    expect(goalVerdict([1.5, 1.6, 1.7], { atMost: 1.1 })).toBe('too few repetitions')
  })
})
