/**
 * The broker thread's side of the admin thread: starts the worker (worker.ts) that serves the
 * admin HTTP API, answers its calls on the backend, writes its log lines into the broker's log,
 * and stops it. start() resolves once the admin listener is up and rejects with the listener's
 * own error (EADDRINUSE …) when it cannot be.
 */
import type { AddressInfo } from 'node:net'
import { Worker } from 'node:worker_threads'
import { pino, type DestinationStream } from 'pino'
import type { Logger } from '../../log.js'
import { workerEntry } from '../../thread/worker-entry.js'
import type { SharedTokens } from '../admin-tokens.js'
import type { AdminBackend } from './backend.js'
import { deserializeError } from '../../thread/errors.js'
import { answerCall, type ToAdmin, type ToBroker } from './rpc.js'
import { within } from '../../timers.js'
import type { AdminWorkerData } from './worker.js'

export interface AdminThreadOptions {
  backend: AdminBackend
  tokens: SharedTokens
  host: string
  port: number
  metrics: { contentType: string, requireToken: boolean }
  logger: Logger
}

/** How long close() waits for the admin API to finish its requests before the thread is ended. */
const CLOSE_TIMEOUT_MS = 5000

export class AdminThread {
  private closing: Promise<void> | undefined
  private exited = false

  private constructor (
    private readonly worker: Worker,
    readonly address: AddressInfo,
    private readonly closed: Promise<void>,
    private readonly log: Logger
  ) {
    worker.once('exit', (code) => {
      this.exited = true
      // the admin API is gone while the broker runs on: /healthz stops answering, and the log says why
      if (this.closing === undefined) log.error({ event: 'admin.thread_exited', code }, `the admin API thread exited with code ${code}`)
    })
  }

  static async start (options: AdminThreadOptions): Promise<AdminThread> {
    const log = options.logger
    const out = destinationOf(log)
    const data: AdminWorkerData = {
      host: options.host, port: options.port, logLevel: log.level, tokens: options.tokens, metrics: options.metrics
    }
    const entry = workerEntry(import.meta.url, 'worker')
    // a small young generation: the API's requests are short-lived garbage, and V8's default
    // semi-spaces held about 15 MB more RSS for an idle admin thread (measured)
    const worker = new Worker(entry.filename, { eval: entry.eval, workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4 } })
    let started: ((address: AddressInfo) => void) | undefined
    let failed: ((err: Error) => void) | undefined
    let stopped: (() => void) | undefined
    const listening = new Promise<AddressInfo>((resolve, reject) => { started = resolve; failed = reject })
    const closed = new Promise<void>((resolve) => { stopped = resolve })
    worker.on('message', (message: ToBroker) => {
      switch (message.type) {
        case 'call':
          answerCall(options.backend, message, (answer) => { worker.postMessage(answer) })
          return
        case 'log':
          out.write(message.line)
          return
        case 'listening':
          started?.(message.address)
          return
        case 'failed':
          failed?.(deserializeError(message.error))
          return
        case 'closed':
          // a close that failed ends the thread all the same
          if (message.error !== undefined) log.error({ event: 'admin.close_failed', err: deserializeError(message.error) }, 'the admin API did not close cleanly')
          stopped?.()
      }
    })
    worker.on('error', (err) => {
      log.error({ event: 'admin.thread_failed', err }, `the admin API thread failed: ${err.message}`)
      failed?.(err)
    })
    worker.once('exit', (code) => {
      failed?.(new Error(`the admin API thread exited with code ${code} before listening`))
      stopped?.()
    })
    try {
      const address = await listening
      return new AdminThread(worker, address, closed, log)
    } catch (err) {
      await worker.terminate()
      throw err
    }
  }

  /** Stops the admin listener (in-flight requests finish), then ends the thread. */
  async close (): Promise<void> {
    this.closing ??= this.stop()
    await this.closing
  }

  private async stop (): Promise<void> {
    if (this.exited) return
    this.worker.postMessage({ type: 'close' } satisfies ToAdmin)
    await within(this.closed, CLOSE_TIMEOUT_MS, undefined)
    await this.worker.terminate()
    this.log.debug({ event: 'admin.thread_stopped' }, 'admin API thread stopped')
  }
}

/** Where the broker's logger writes, so the admin thread's lines join the same stream. */
function destinationOf (logger: Logger): DestinationStream {
  const stream: unknown = Reflect.get(logger, pino.symbols.streamSym)
  if (typeof stream !== 'object' || stream === null || typeof Reflect.get(stream, 'write') !== 'function') {
    throw new Error('admin thread: the logger has no destination stream')
  }
  return stream as DestinationStream
}
