/**
 * The configuration thread (see load-in-thread.ts): validates the config once and answers with
 * the result or the error, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { serializeError } from '../thread/errors.js'
import type { ConfigReply } from './load-in-thread.js'
import { loadConfig, type LoadOptions } from './load.js'

if (parentPort === null) throw new Error('config/load-worker.ts runs only as the configuration thread (see load-in-thread.ts)')
let reply: ConfigReply
try {
  reply = { ok: true, loaded: loadConfig(workerData as LoadOptions) }
} catch (err) {
  reply = { ok: false, error: serializeError(err) }
}
parentPort.postMessage(reply)
