import { describe, expect, it } from 'vitest'
import { LatencyHistogram } from '../../../src/simulator/histogram.js'

function exactPercentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
}

describe('LatencyHistogram', () => {
  it('gives percentiles within 1% of the exact ones over a wide range', () => {
    const h = new LatencyHistogram()
    const values: number[] = []
    let seed = 7
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const v = 0.05 + (seed / 2 ** 31) ** 3 * 5000 // skewed: mostly small, a long tail
      values.push(v)
      h.record(v)
    }
    for (const p of [50, 95, 99, 99.9]) {
      const exact = exactPercentile(values, p)
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.01)
    }
    expect(h.summary()).toMatchObject({ count: 20_000, min: Math.round(Math.min(...values) * 1000) / 1000, max: Math.round(Math.max(...values) * 1000) / 1000 })
  })

  it('is empty (NaN) before any value and ignores negative or non-finite values', () => {
    const h = new LatencyHistogram()
    h.record(-1)
    h.record(Number.NaN)
    expect(h.count).toBe(0)
    expect(h.percentile(50)).toBeNaN()
    expect(h.summary().p99).toBeNaN()
  })

  it('merges two histograms into the one of all their values', () => {
    const a = new LatencyHistogram()
    const b = new LatencyHistogram()
    const all = new LatencyHistogram()
    for (let i = 1; i <= 100; i++) { (i % 2 === 0 ? a : b).record(i); all.record(i) }
    a.merge(b)
    expect(a.summary()).toEqual(all.summary())
  })
})
