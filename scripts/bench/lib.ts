/** Small shared pieces of the benchmark suite: ports, /proc readings, statistics, the admin API. */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(import.meta.dirname, '..', '..')
export const TOKEN = 'bench-token-not-a-secret-0000'

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** A port nothing listens on right now (the OS picks it). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

/** user + system CPU milliseconds of a process so far (Linux /proc, 100 ticks/s). */
export async function cpuMs (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

export async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024
}

export function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** The middle value; with an even count, the mean of the two middle values (not the lower one). */
export function median (xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** An interval for a median, and the chance it covers the true median (at least the one asked for). */
export interface MedianInterval { low: number, high: number, coverage: number }

/**
 * A distribution-free interval for the median of `xs`: the k-th smallest and the k-th largest
 * value, with k as large as still covers the true median with at least `confidence`. It assumes
 * the values are independent draws with one median (each falls below it with probability 1/2, so
 * the count below is binomial), nothing about their spread. Undefined when even min–max would
 * cover it with less (fewer than 6 values at 95%).
 */
export function medianInterval (xs: readonly number[], confidence = 0.95): MedianInterval | undefined {
  const n = xs.length
  // 2 ** n overflows past 1023; repetitions are counted in tens
  if (n > 1000) throw new RangeError(`medianInterval: ${n} values; at most 1000`)
  const sorted = [...xs].sort((a, b) => a - b)
  // tail: P(Bin(n, 1/2) <= k - 1), the chance that x(k) lies above the median (and, alike, that
  // x(n + 1 - k) lies below it); choose: C(n, k - 1) when added
  let tail = 0
  let choose = 1
  let best: MedianInterval | undefined
  for (let k = 1; 2 * k <= n + 1; k++) {
    tail += choose / 2 ** n
    choose = choose * (n - (k - 1)) / k
    const coverage = 1 - 2 * tail
    if (coverage < confidence) break
    best = { low: sorted[k - 1]!, high: sorted[n - k]!, coverage }
  }
  return best
}

export type Verdict = 'met' | 'missed' | 'undecided' | 'too few repetitions'

export interface GoalJudgement { verdict: Verdict, median: number, interval: MedianInterval | undefined }

/**
 * Whether a goal on a ratio is met, judged on the ratios of one run's repetitions: met when the
 * median's whole interval (medianInterval) is on the goal's side, missed when all of it is on the
 * other, undecided when it straddles the goal or touches it from the other side. It speaks for
 * the conditions of that run only: a VM that changes speed between runs changes the median too.
 */
export function judgeGoal (ratios: readonly number[], goal: { atMost: number } | { atLeast: number }, confidence = 0.95): GoalJudgement {
  const interval = medianInterval(ratios, confidence)
  const judged = (verdict: Verdict): GoalJudgement => ({ verdict, median: median(ratios), interval })
  if (interval === undefined) return judged('too few repetitions')
  const { low, high } = interval
  if ('atMost' in goal) return judged(high <= goal.atMost ? 'met' : low > goal.atMost ? 'missed' : 'undecided')
  return judged(low >= goal.atLeast ? 'met' : high < goal.atLeast ? 'missed' : 'undecided')
}

/** "median (min–max)" of a measurement over repetitions. */
export function spread (xs: number[], digits = 2): string {
  if (xs.length === 0) return '-'
  if (xs.length === 1) return xs[0]!.toFixed(digits)
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`
}

export async function api (base: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const json = await res.json() as Record<string, unknown>
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

export function hasCommand (name: string, args: string[] = ['-h']): boolean {
  try {
    execFileSync(name, args, { stdio: 'ignore' })
    return true
  } catch (err) {
    // present but unhappy with the arguments still counts
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/**
 * Brokers share CPU 0 (one is measured at a time) and the driver takes the others, so a broker's
 * CPU per operation is not skewed by where the scheduler puts the driver's work.
 */
export const PIN = availableParallelism() >= 2 && hasCommand('taskset', ['-V'])
if (PIN) execFileSync('taskset', ['-a', '-cp', `1-${availableParallelism() - 1}`, String(process.pid)], { stdio: 'ignore' })

export function pinned (command: string, args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', '0', command, ...args]] : [command, args]
}
