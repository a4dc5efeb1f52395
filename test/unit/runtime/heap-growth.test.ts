/**
 * runtime.heapGrowingPercent: the V8 flag is set at run time (not on node's command line), so
 * these tests prove in a fresh process that setting it then still changes how often V8 runs a
 * full collection.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { applyHeapGrowingPercent } from '../../../src/runtime/heap-growth.js'
import { REPO_ROOT, TSX_IMPORT } from '../../helpers/tsx.js'

const MODULE = pathToFileURL(join(REPO_ROOT, 'src', 'runtime', 'heap-growth.ts')).href

/** Keeps ~120 MB of small objects alive in steps, as connections do, and counts full collections. */
const CHILD = `
import { PerformanceObserver, constants } from 'node:perf_hooks'
const { applyHeapGrowingPercent } = await import(${JSON.stringify(MODULE)})
applyHeapGrowingPercent(Number(process.argv[1]))
let majors = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++
}).observe({ entryTypes: ['gc'] })
const kept = []
for (let i = 0; i < 250; i++) {
  kept.push(Array.from({ length: 20000 }, (_, j) => ({ i, j })))
  await new Promise((resolve) => setImmediate(resolve))
}
await new Promise((resolve) => setTimeout(resolve, 50))
process.stdout.write(String(majors) + ' ' + kept.length)
`

async function fullCollections (percent: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', TSX_IMPORT, '--input-type=module', '-e', CHILD, String(percent)])
  const [majors, kept] = stdout.trim().split(' ').map(Number)
  expect(kept).toBe(250)
  return majors!
}

describe('applyHeapGrowingPercent', () => {
  it('set at run time, a bigger step means fewer full collections for the same live heap', async () => {
    const tight = await fullCollections(10)
    const doubling = await fullCollections(100)
    expect(doubling).toBeGreaterThan(0)
    expect(doubling).toBeLessThan(tight)
  }, 60_000)

  it('0 leaves V8 alone; a negative or fractional step is refused', () => {
    expect(applyHeapGrowingPercent(0)).toBeUndefined()
    expect(() => applyHeapGrowingPercent(-1)).toThrow(RangeError)
    expect(() => applyHeapGrowingPercent(1.5)).toThrow(RangeError)
  })
})
