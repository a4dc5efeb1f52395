import { describe, expect, it } from 'vitest'
import { createPacer } from '../../../src/simulator/pacing.js'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

describe('createPacer', () => {
  it('spaces starts at least 1/rate apart', async () => {
    const pacer = createPacer(50, 10)
    const starts: number[] = []
    const scheduled = performance.now()
    await Promise.all(Array.from({ length: 8 }, async () => await pacer.run(async () => { starts.push(performance.now()) })))
    // the k-th start at least k × 20 ms after the jobs were handed over at 50/s, less 5 ms for
    // timers that fire early (unpaced, all 8 would start within a millisecond). Counted from the
    // hand-over, not per gap nor from the first start: bottleneck plans each start from there, so
    // on a busy machine a start that runs late leaves a shorter gap to the next one
    starts.forEach((t, k) => { expect(t - scheduled).toBeGreaterThanOrEqual(k * 20 - 5) })
  })

  it('never has more than `concurrency` jobs in flight', async () => {
    const pacer = createPacer(0, 2)
    let running = 0
    let most = 0
    await Promise.all(Array.from({ length: 8 }, async () => await pacer.run(async () => {
      running++
      most = Math.max(most, running)
      await sleep(15)
      running--
    })))
    expect(most).toBe(2)
  })

  it('drops waiting jobs on stop and lets running ones finish', async () => {
    const pacer = createPacer(0, 1)
    const ran: number[] = []
    let firstStarted: () => void = () => {}
    const started = new Promise<void>((resolve) => { firstStarted = resolve })
    const jobs = Array.from({ length: 4 }, (_, i) => pacer.run(async () => { if (i === 0) firstStarted(); await sleep(20); ran.push(i) }).catch(() => 'dropped'))
    // stop while the first job runs (a fixed sleep here failed on a busy machine: it had not started yet)
    await started
    await pacer.stop()
    const results = await Promise.all(jobs)
    expect(ran).toEqual([0])
    expect(results.slice(1)).toEqual(['dropped', 'dropped', 'dropped'])
  })
})
