/**
 * RegistrationLimiter for one node: at most `maxPerSecond` acquisitions in any sliding
 * 1000 ms window, excess refused at once (no queueing). A ring buffer holds the times of the
 * last N grants; a grant is allowed when the oldest of them is at least a second old.
 * STACK.md: bottleneck's reservoir is a fixed window and lets 2N through across a refill.
 */
import type { RegistrationLimiter } from './ports.js'

export class LocalRegistrationLimiter implements RegistrationLimiter {
  private readonly grants: Float64Array
  private next = 0

  constructor (
    readonly maxPerSecond: number,
    private readonly nowMs: () => number = () => performance.now()
  ) {
    this.grants = new Float64Array(maxPerSecond).fill(Number.NEGATIVE_INFINITY)
  }

  async tryAcquire (): Promise<boolean> {
    return this.tryAcquireSync()
  }

  tryAcquireSync (): boolean {
    const now = this.nowMs()
    const oldest = this.grants[this.next] as number
    if (now - oldest < 1000) return false
    this.grants[this.next] = now
    this.next = (this.next + 1) % this.grants.length
    return true
  }

  async close (): Promise<void> {}
}
