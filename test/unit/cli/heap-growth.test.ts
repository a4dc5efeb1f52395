/**
 * runtime.heapGrowingPercent: the V8 flag is set at run time, not on node's command line, so a
 * fresh process proves that setting it then still changes the limit V8 computes after a full
 * collection (its `--trace-gc-verbose` line "[HeapController] Limit: … (factor)").
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { applyHeapGrowingPercent, describeHeapGrowth } from '../../../src/cli/heap-growth.js'
import { REPO_ROOT, TSX_IMPORT } from '../../helpers/tsx.js'

const MODULE = pathToFileURL(join(REPO_ROOT, 'src', 'cli', 'heap-growth.ts')).href

const CHILD = `
const { applyHeapGrowingPercent } = await import(${JSON.stringify(MODULE)})
const growth = applyHeapGrowingPercent(Number(process.argv[1]))
const kept = Array.from({ length: 50 }, () => new Array(10000).fill(0).map((_, i) => ({ i })))
globalThis.gc()
process.stdout.write('growth ' + JSON.stringify(growth) + ' ' + kept.length + '\\n')
`

/** The factor of the last old-generation limit V8 computed in a child, and what apply() returned. */
async function limitFactor (percent: number, nodeFlags: string[] = []): Promise<{ factor: number, growth: unknown }> {
  const { stdout } = await promisify(execFile)(process.execPath,
    ['--expose-gc', '--trace-gc-verbose', ...nodeFlags, '--import', TSX_IMPORT, '--input-type=module', '-e', CHILD, String(percent)],
    { maxBuffer: 16 * 1024 * 1024 })
  const limits = [...stdout.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)/g)]
  expect(limits.length).toBeGreaterThan(0)
  const growth = /^growth (.*) 50$/m.exec(stdout)
  expect(growth).not.toBeNull()
  return { factor: Number(limits.at(-1)![1]), growth: JSON.parse(growth![1]!) }
}

describe('applyHeapGrowingPercent', () => {
  it('set at run time, V8 sets the next limit at live size × (1 + percent / 100)', async () => {
    expect(await limitFactor(100)).toEqual({ factor: 2, growth: { source: 'config', percent: 100 } })
    expect(await limitFactor(50)).toEqual({ factor: 1.5, growth: { source: 'config', percent: 50 } })
  }, 60_000)

  it("leaves a step given on node's command line as it is", async () => {
    expect(await limitFactor(100, ['--heap-growing-percent=30'])).toEqual({
      factor: 1.3,
      growth: { source: 'node', flag: '--heap-growing-percent=30' }
    })
  }, 30_000)

  it('0 leaves the step to V8; a negative or fractional step is refused', () => {
    expect(applyHeapGrowingPercent(0, [])).toEqual({ source: 'v8' })
    expect(() => applyHeapGrowingPercent(-1, [])).toThrow(RangeError)
    expect(() => applyHeapGrowingPercent(1.5, [])).toThrow(RangeError)
  })

  it('describes what decides the step for the start-up log line', () => {
    expect(describeHeapGrowth({ source: 'config', percent: 100 })).toBe('100% (config)')
    expect(describeHeapGrowth({ source: 'node', flag: '--heap-growing-percent=30' })).toBe('--heap-growing-percent=30 (node command line)')
    expect(describeHeapGrowth({ source: 'v8' })).toBe('chosen by V8')
  })
})
