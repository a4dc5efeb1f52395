/**
 * How a worker thread of ours is started. The built file (dist/…/name.js) runs as is; from the
 * TypeScript sources (tests, tsx) the thread registers tsx first, the loader these sources run
 * under, and then imports name.ts.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** `from`: the starting module's import.meta.url; `name`: the worker module beside it, without extension. */
export function workerEntry (from: string, name: string): { filename: string | URL, eval: boolean } {
  if (from.endsWith('.js')) return { filename: new URL(`./${name}.js`, from), eval: false }
  const worker = new URL(`./${name}.ts`, from).href
  const source = `import(${JSON.stringify(tsxEsmApi(from))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}) })`
  return { filename: source, eval: true }
}

/**
 * The node arguments that run module `name` (beside `from`, without extension) as a process of
 * its own, as workerEntry does for a thread; the module reads its own arguments with
 * `process.argv.at(-1)` and the like (the two forms put different things before them).
 */
export function childProcessArgs (from: string, name: string): string[] {
  const entry = workerEntry(from, name)
  return entry.eval ? ['--input-type=module', '--eval', String(entry.filename)] : [fileURLToPath(entry.filename)]
}

/** The ESM entry of tsx's register API, read from its package exports (an eval'd thread imports by URL). */
function tsxEsmApi (from: string): string {
  const manifestPath = createRequire(from).resolve('tsx/package.json')
  const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'))
  const target: unknown = ['exports', './esm/api', 'import', 'default'].reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? Reflect.get(node, key) : undefined), manifest)
  if (typeof target !== 'string') throw new Error(`worker thread: ${manifestPath} has no ESM entry for tsx/esm/api`)
  return pathToFileURL(join(dirname(manifestPath), target)).href
}
