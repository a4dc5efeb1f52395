/**
 * V8's old-generation growth step for the broker process. After a full (mark-compact) collection
 * V8 lets the old generation grow by a factor it picks from how fast it marks against how fast the
 * program allocates; for a broker that factor lands near 1.3. A broker's connections live long,
 * so every connect promotes its TLS socket and client into the old generation and each full
 * collection marks every live connection again: a bigger step means fewer of them for the same
 * work, at the cost of up to that much more heap before the next one. Measured in
 * docs/benchmarks.md ("GC growth step").
 */
import { setFlagsFromString } from 'node:v8'

/**
 * Sets V8's growth step to `percent` (100: the old generation may double before the next full
 * collection). 0 keeps V8's own choice. Process-wide; call it once, before the broker starts.
 * Returns the flag it set, or undefined for 0.
 */
export function applyHeapGrowingPercent (percent: number): string | undefined {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent must be a non-negative integer, got ${percent}`)
  if (percent === 0) return undefined
  const flag = `--heap-growing-percent=${percent}`
  setFlagsFromString(flag)
  return flag
}
