/**
 * Pacing of first connects: at most `rate` starts per second, evenly spaced, and at most
 * `concurrency` in flight (bottleneck's minTime and maxConcurrent). rate 0: no spacing.
 */
import Bottleneck from 'bottleneck'

export interface Pacer {
  /** Runs `job` when its turn comes. */
  run: <T>(job: () => Promise<T>) => Promise<T>
  /** Drops the jobs still waiting; running ones finish. */
  stop: () => Promise<void>
}

export function createPacer (rate: number, concurrency: number): Pacer {
  const limiter = new Bottleneck({ maxConcurrent: Math.max(1, Math.floor(concurrency)), minTime: rate > 0 ? 1000 / rate : 0 })
  return {
    run: async (job) => await limiter.schedule(job),
    stop: async () => { await limiter.stop({ dropWaitingJobs: true }).catch(() => {}) }
  }
}
