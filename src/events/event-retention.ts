/**
 * Bounded retention of the event log: every `intervalMs`, delete events older than
 * `retentionDays` and the oldest beyond `maxEvents`, in batches of `batch` with a turn of the
 * event loop between batches, so pruning a large backlog never blocks connections for long.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Logger } from '../log.js'
import type { EventLog } from '../store/ports.js'

export interface EventRetentionOptions {
  log: EventLog
  retentionDays: number
  maxEvents: number
  now: () => Date
  logger: Logger
  /** Default one minute. */
  intervalMs?: number
  /** Deletes per transaction. Default 500. */
  batch?: number
}

const DAY_MS = 86_400_000

export class EventRetention {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<number> | undefined
  private stopped = false

  constructor (private readonly options: EventRetentionOptions) {}

  /** Prunes now and then every interval. */
  start (): void {
    this.stopped = false
    const tick = (): void => {
      void this.pruneAll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs ?? 60_000).unref()
      })
    }
    tick()
  }

  /** Prunes until nothing is left to prune (or stop() is called); resolves with how many went. */
  async pruneAll (): Promise<number> {
    this.running ??= this.run().finally(() => { this.running = undefined })
    return await this.running
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
  }

  private async run (): Promise<number> {
    const { log, retentionDays, maxEvents, now, logger } = this.options
    const batch = this.options.batch ?? 500
    let total = 0
    try {
      for (;;) {
        const before = new Date(now().getTime() - retentionDays * DAY_MS).toISOString()
        const deleted = await log.prune({ before, maxEvents, batch })
        total += deleted
        if (deleted < batch || this.stopped) break
        await nextTurn()
      }
    } catch (err) {
      logger.warn({ event: 'events.prune_failed', err }, 'could not prune the event log')
    }
    if (total > 0) logger.info({ event: 'events.pruned', count: total }, `pruned ${total} events`)
    return total
  }
}
