/**
 * Latency percentiles in bounded memory: values (milliseconds) fall into logarithmic buckets 1%
 * wide, so a run of millions of messages costs a few thousand counters and every percentile is
 * within 1% of the exact one. Exact min and max are kept.
 */
const GROWTH = Math.log(1.01)
const FLOOR_MS = 0.001

export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

export class LatencyHistogram {
  private readonly buckets = new Map<number, number>()
  private total = 0
  private sum = 0
  private low = Number.POSITIVE_INFINITY
  private high = Number.NEGATIVE_INFINITY

  record (ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return
    const bucket = Math.floor(Math.log(Math.max(ms, FLOOR_MS) / FLOOR_MS) / GROWTH)
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1)
    this.total++
    this.sum += ms
    if (ms < this.low) this.low = ms
    if (ms > this.high) this.high = ms
  }

  merge (other: LatencyHistogram): void {
    for (const [bucket, n] of other.buckets) this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + n)
    this.total += other.total
    this.sum += other.sum
    this.low = Math.min(this.low, other.low)
    this.high = Math.max(this.high, other.high)
  }

  get count (): number {
    return this.total
  }

  /** The value at percentile p (0–100); NaN when empty. */
  percentile (p: number): number {
    if (this.total === 0) return Number.NaN
    if (p <= 0) return this.low
    if (p >= 100) return this.high
    const rank = Math.ceil((p / 100) * this.total)
    let seen = 0
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(bucket)!
      if (seen >= rank) {
        // the bucket's midpoint, kept inside what was really seen
        const mid = FLOOR_MS * Math.exp((bucket + 0.5) * GROWTH)
        return Math.min(this.high, Math.max(this.low, mid))
      }
    }
    return this.high
  }

  summary (): LatencySummary {
    const round = (x: number): number => Number.isFinite(x) ? Math.round(x * 1000) / 1000 : Number.NaN
    return {
      count: this.total,
      min: round(this.total === 0 ? Number.NaN : this.low),
      mean: round(this.total === 0 ? Number.NaN : this.sum / this.total),
      p50: round(this.percentile(50)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      max: round(this.total === 0 ? Number.NaN : this.high)
    }
  }
}
