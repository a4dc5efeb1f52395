/**
 * V8's old-generation growth step for the `certmq serve` process (runtime.heapGrowingPercent).
 * After each full (mark-compact) collection V8 picks how far the heap may grow before the next
 * one, between 1.1× and 4× the live size, from its marking and allocation speeds; under a stream
 * of connects it settles near 1.3×. A broker's connections live long, so every connect promotes
 * its TLS socket and client into the old generation, and each full collection marks every live
 * connection again: a fixed, bigger step means fewer collections for the same connects, for up to
 * that much more heap before each. Process-wide: the admin thread's heap gets the same step.
 * Measured in docs/benchmarks.md ("GC growth step").
 */
import { setFlagsFromString } from 'node:v8'

/** What decides the step: certmq's config, node's own command line, or V8's heuristic. */
export type HeapGrowth =
  | { source: 'config', percent: number }
  | { source: 'node', flag: string }
  | { source: 'v8' }

const NODE_FLAG = /^--heap[-_]growing[-_]percent(=|$)/

/**
 * Sets V8's growth step to `percent` (100: the heap may double before the next full collection).
 * 0 keeps V8's heuristic. A step given on node's command line (`node --heap-growing-percent=N
 * bin/certmq.js serve`) is left as it is. Call once, before the broker starts.
 */
export function applyHeapGrowingPercent (percent: number, execArgv: readonly string[] = process.execArgv): HeapGrowth {
  // the config schema bounds it; this guards a programming error, hence no CertmqError
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent must be a non-negative integer, got ${percent}`)
  const given = execArgv.find((arg) => NODE_FLAG.test(arg))
  if (given !== undefined) return { source: 'node', flag: given }
  if (percent === 0) return { source: 'v8' }
  setFlagsFromString(`--heap-growing-percent=${percent}`)
  return { source: 'config', percent }
}

/** For the start-up log line: `100% (config)`, `--heap-growing-percent=50 (node command line)`, `chosen by V8`. */
export function describeHeapGrowth (growth: HeapGrowth): string {
  switch (growth.source) {
    case 'config': return `${growth.percent}% (config)`
    case 'node': return `${growth.flag} (node command line)`
    case 'v8': return 'chosen by V8'
  }
}
