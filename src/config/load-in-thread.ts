/**
 * loadConfig in a short-lived worker thread, for `certmq serve`. The validator (ajv) and the
 * schema library (TypeBox) are a third of the JavaScript a broker would otherwise load; modules
 * stay in the heap for the life of the process, and every full garbage collection of the
 * broker's thread marks them. The thread reads the same environment and working directory, and
 * a CONFIG_INVALID error comes back with its message and problems.
 */
import { Worker } from 'node:worker_threads'
import { deserializeError, type SerializedError } from '../thread/errors.js'
import { workerEntry } from '../thread/worker-entry.js'
import { deepFreeze } from './freeze.js'
import type { LoadedConfig, LoadOptions } from './load.js'

/** The worker's one message (load-worker.ts). */
export type ConfigReply = { ok: true, loaded: LoadedConfig } | { ok: false, error: SerializedError }

/** The same options as loadConfig; by default the thread reads this process's environment and working directory. */
export async function loadConfigInThread (options: LoadOptions = {}): Promise<LoadedConfig> {
  const entry = workerEntry(import.meta.url, 'load-worker')
  const data: LoadOptions = { ...options, cwd: options.cwd ?? process.cwd() }
  const worker = new Worker(entry.filename, { eval: entry.eval, workerData: data })
  try {
    const reply = await new Promise<ConfigReply>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => { reject(new Error(`the configuration thread exited with code ${code} before it answered`)) })
    })
    if (!reply.ok) throw deserializeError(reply.error)
    return { config: deepFreeze(reply.loaded.config), file: reply.loaded.file }
  } finally {
    await worker.terminate()
  }
}
