/**
 * `certmq serve`: load and validate the config, start the broker, stop cleanly on SIGINT/SIGTERM,
 * reload the MQTTS server certificate on SIGHUP (as Mosquitto does).
 */
import { loadConfigInThread } from '../../config/load-in-thread.js'
import { isCertmqError } from '../../errors.js'
import { applyHeapGrowingPercent, describeHeapGrowth } from '../heap-growth.js'
import { describeOpensslConfig } from '../openssl-config.js'
import type { RunningServer } from '../../server.js'
import { EXIT_CONFIG_INVALID } from '../exit-codes.js'

export async function serve (opts: { config?: string }): Promise<number> {
  // installed first and kept until the process ends: Node's default for SIGHUP is to exit, and a
  // reload asked while the config loads or the broker's modules load (server.js, imported below
  // for that reason) would kill the broker; a SIGHUP during the start or the stop does nothing.
  // The outcome of a reload, good or bad, is logged by the server (tls.reloaded,
  // tls.reload_failed); a failed one keeps the previous certificate
  let running: RunningServer | undefined
  const reload = (): void => { running?.reloadTls().catch(() => {}) }
  process.on('SIGHUP', reload)
  let loaded
  try {
    loaded = await loadConfigInThread(opts.config === undefined ? {} : { configPath: opts.config })
  } catch (err) {
    if (isCertmqError(err, 'CONFIG_INVALID')) {
      process.stderr.write(`error CONFIG_INVALID: ${err.message}\n`)
      return EXIT_CONFIG_INVALID
    }
    throw err
  }
  // the process is the broker's own here (not a test or an embedding program), so its V8 may be tuned
  const heapGrowth = describeHeapGrowth(applyHeapGrowingPercent(loaded.config.runtime.heapGrowingPercent))
  try {
    const { startServer } = await import('../../server.js')
    running = await startServer(loaded.config, { startFacts: { heapGrowth, opensslConfig: describeOpensslConfig() } })
  } catch (err) {
    if (isCertmqError(err)) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`)
      return err.code === 'CONFIG_INVALID' ? EXIT_CONFIG_INVALID : 1
    }
    throw err
  }
  const server = running
  // the stop's failures are logged by the server (server.stop_failed); the exit code says one came
  return await new Promise<number>((resolve) => {
    // kept installed once the stop has begun: a second signal would otherwise kill the process
    // half-way through it (npm start forwards to certmq the Ctrl-C the terminal sent it too)
    let stopping = false
    const stop = (): void => {
      if (stopping) return
      stopping = true
      running = undefined
      server.stop().then(() => { resolve(0) }, (err: unknown) => {
        process.stderr.write(`error: the stop did not finish cleanly: ${err instanceof Error ? err.message : String(err)}\n`)
        resolve(1)
      })
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
