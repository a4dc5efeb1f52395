/**
 * EventLog in the `events` sub-database of the embedded store's LMDB environment.
 *
 * Appends are pushes onto an in-memory queue keyed by event id; one timer commits the queue in a
 * single transaction every `flushMs` (one fsync per batch, never one per CONNECT), the same way
 * the store batches associated clients. A rewrite of a queued event (a larger count) replaces it
 * in the queue, so a storm of retries costs one put per batch. Queries flush first, so they see
 * everything appended before them.
 *
 * Keys are event ids (`<ms>-<sequence>`, see domain/event.ts): a time range is a key range and
 * newest first is a reverse scan. The cursor is the base64url of the last id a page looked at;
 * the next page continues strictly below it, so events appended between pages (always newer)
 * neither shift nor repeat what the pages show.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { CertmqError } from '../../errors.js'
import { EventIdSequence, eventFilter, eventIdFloor, MAX_EVENT_PAGE_SIZE, type AuditEvent, type EventPage, type EventQuery, type NewEvent } from '../../domain/event.js'
import { checkLimit } from '../../domain/query-compile.js'
import type { EventLog } from '../ports.js'
import type { EventTable } from './databases.js'
import { decodeEventCursor, encodeEventCursor, rangeOf, targetKey, targetRange, type IdRange } from './event-page.js'
import { reportQuietly } from './report-quietly.js'

export interface EmbeddedEventLogOptions {
  /** The environment's events table; throws STORE_UNAVAILABLE while the store is closed (build the log after opening it). */
  table: () => EventTable
  now: () => Date
  /** How long appended events wait to be committed together. Default 200 ms. */
  flushMs?: number
  /** Entries one query may read before it returns a short page with a cursor. Default 50,000. */
  scanBudget?: number
  /** Events queued beyond this are dropped (the store is failing). Default 100,000. */
  maxQueued?: number
  /** A timer flush failed; `dropped` events were lost. */
  onFlushError?: (err: unknown, dropped: number) => void
}

/** Entries a query reads between two turns of the event loop. */
const SCAN_SLICE = 2000

/**
 * Events one commit writes; the rest follow on the next turns. The transaction's puts run on the
 * broker's thread (encoding and B-tree inserts, about 10 µs an event; the fsync after them is
 * 1–3 ms): 1000 events hold the event loop about 10–13 ms, where 5000 held it 45–55 ms.
 */
const TIMER_BATCH = 1000

interface Queued {
  event: AuditEvent
  /** false: a rewrite of an event that may already be committed (and pruned since). */
  isNew: boolean
}

export class EmbeddedEventLog implements EventLog {
  private readonly ids = new EventIdSequence()
  /** The newest id appended: what a flush called now must see committed. */
  private lastAppended: string | undefined
  private readonly queue = new Map<string, Queued>()
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private dropped = 0
  private groupCommit: Promise<void> | undefined
  private readonly flushMs: number
  private readonly scanBudget: number
  private readonly maxQueued: number

  constructor (private readonly options: EmbeddedEventLogOptions) {
    this.flushMs = options.flushMs ?? 200
    this.scanBudget = options.scanBudget ?? 50_000
    this.maxQueued = options.maxQueued ?? 100_000
    // ids go on after the newest stored one, so they never go backwards across a restart (clock
    // stepped back, or milliseconds borrowed ahead by the last run); the store must be open
    for (const key of options.table().events.getKeys({ reverse: true, limit: 1 })) this.ids.resumeAfter(key)
  }

  append (input: NewEvent): AuditEvent {
    const { id, ms } = this.ids.next(this.options.now().getTime())
    this.lastAppended = id
    const event: AuditEvent = { id, time: new Date(ms).toISOString(), ...input }
    this.enqueue({ event, isNew: true })
    return event
  }

  replace (event: AuditEvent): void {
    this.enqueue({ event, isNew: this.queue.get(event.id)?.isNew ?? false })
  }

  /**
   * Group commit: callers within one turn of the event loop (concurrent admin requests) share one
   * transaction, so one fsync makes all their events durable. Resolves once every event appended
   * before it is committed; a backlog (a refusal storm of distinct devices) goes in slices of
   * TIMER_BATCH with turns of the event loop between, so an admin call never blocks CONNECTs for long.
   */
  async flush (): Promise<void> {
    this.groupCommit ??= (async () => {
      await nextTurn()
      this.groupCommit = undefined
      const marker = this.lastAppended
      for (;;) {
        this.commit(TIMER_BATCH)
        const oldest = this.queue.values().next()
        if (oldest.done === true || marker === undefined || oldest.value.event.id > marker) return
        await nextTurn()
      }
    })()
    await this.groupCommit
  }

  async query (query: EventQuery): Promise<EventPage> {
    checkLimit(query.limit, MAX_EVENT_PAGE_SIZE)
    const after = decodeEventCursor(query.cursor)
    await this.flush()
    const matches = eventFilter(query)
    const items: AuditEvent[] = []
    let range = rangeOf(query, after)
    let scanned = 0
    let lastId: string | undefined
    const slice = Math.min(SCAN_SLICE, this.scanBudget)
    // slices of SCAN_SLICE entries with a turn of the event loop between them: a rare filter
    // over a large log never holds up connections for long (a few ms a slice)
    for (;;) {
      let inSlice = 0
      try {
        for (const [id, event] of this.readSlice(query.targetId, range, slice)) {
          inSlice++
          if (event !== undefined && matches(event)) {
            if (items.length === query.limit) return { items, nextCursor: encodeEventCursor(lastId as string) }
            items.push(event)
          }
          lastId = id
        }
      } catch (err) {
        throw failure('query events', err)
      }
      scanned += inSlice
      if (inSlice < slice) return { items, nextCursor: null }
      // the budget spent: hand back what was found, the cursor goes on from there
      if (scanned >= this.scanBudget) return { items, nextCursor: encodeEventCursor(lastId as string) }
      range = { ...range, start: lastId as string, exclusiveStart: true }
      await nextTurn()
    }
  }

  async prune ({ before, maxEvents, batch }: { before: string; maxEvents: number; batch: number }): Promise<number> {
    const { root, events, eventTargets } = this.options.table()
    const cutoff = eventIdFloor(Date.parse(before))
    try {
      // mdb_stat: O(1), unlike getCount(), which walks the whole database
      const { entryCount } = events.getStats() as { entryCount: number }
      const beyond = Math.max(0, entryCount - maxEvents)
      const doomed: string[] = []
      for (const key of events.getKeys({ limit: batch })) {
        if (doomed.length >= beyond && key >= cutoff) break
        doomed.push(key)
      }
      if (doomed.length === 0) return 0
      root.transactionSync(() => {
        for (const key of doomed) {
          const target = events.get(key)?.target
          if (target !== null && target !== undefined) eventTargets.removeSync(targetKey(target.id, key))
          events.removeSync(key)
        }
      })
      return doomed.length
    } catch (err) {
      throw failure('prune events', err)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    try {
      this.commit()
    } finally {
      this.closed = true
    }
  }

  /**
   * Up to `limit` [id, event] pairs, newest first, within `range`; through the target index when
   * the query names a target (an index entry whose event is gone yields undefined).
   */
  private * readSlice (targetId: string | undefined, range: IdRange, limit: number): Generator<[string, AuditEvent | undefined]> {
    const { events, eventTargets } = this.options.table()
    if (targetId === undefined) {
      for (const { key, value } of events.getRange({ reverse: true, ...range, limit })) yield [key, value]
      return
    }
    const skip = targetId.length + 1
    for (const key of eventTargets.getKeys({ reverse: true, ...targetRange(targetId, range), limit })) {
      const id = key.slice(skip)
      yield [id, events.get(id)]
    }
  }

  private enqueue (entry: Queued): void {
    if (this.closed) return
    if (this.queue.size >= this.maxQueued && !this.queue.has(entry.event.id)) {
      this.dropped++
      return
    }
    this.queue.set(entry.event.id, entry)
    this.timer ??= setTimeout(() => { this.commitFromTimer() }, this.flushMs).unref()
  }

  private commitFromTimer (): void {
    const pending = this.queue.size
    if (this.dropped > 0) {
      reportQuietly(this.options.onFlushError, new Error(`event queue full (${this.maxQueued}): events dropped`), this.dropped)
      this.dropped = 0
    }
    try {
      this.commit(TIMER_BATCH)
    } catch (err) {
      // audit data nobody is waiting for: report and drop, so a failing store cannot grow memory
      reportQuietly(this.options.onFlushError, err, Math.min(pending, TIMER_BATCH))
    }
    // a backlog (a flood of distinct devices) goes in slices, letting connections in between
    if (this.queue.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => { this.commitFromTimer() }, 0).unref()
    }
  }

  /**
   * One transaction for the oldest `max` queued events (all by default). What it takes leaves the
   * queue even when the commit fails.
   */
  private commit (max = Number.POSITIVE_INFINITY): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.queue.size === 0) return
    const batch: Queued[] = []
    for (const [id, entry] of this.queue) {
      if (batch.length >= max) break
      batch.push(entry)
      this.queue.delete(id)
    }
    const { root, events, eventTargets } = this.options.table()
    try {
      root.transactionSync(() => {
        for (const { event, isNew } of batch) {
          if (isNew) {
            events.putSync(event.id, event)
            if (event.target !== null) eventTargets.putSync(targetKey(event.target.id, event.id), true)
          } else if (events.doesExist(event.id)) {
            events.putSync(event.id, event)
          }
        }
      })
    } catch (err) {
      throw failure(`commit ${batch.length} events`, err)
    }
  }
}

function failure (operation: string, err: unknown): CertmqError {
  if (err instanceof CertmqError) return err
  return new CertmqError('STORE_UNAVAILABLE', `embedded event log: could not ${operation}`, { operation }, { cause: err })
}
