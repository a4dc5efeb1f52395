/**
 * Temporary directories for one test file, removed after its last test: a maker that registers
 * the vitest afterAll hook of the file that calls it (call it at the file's top level).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

export function tempDirs (prefix: string): () => string {
  const made: string[] = []
  afterAll(() => { for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true }) })
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    made.push(dir)
    return dir
  }
}
