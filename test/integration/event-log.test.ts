/**
 * The embedded event log on a real LMDB environment with a controllable clock: batching,
 * paging newest first while events arrive, filters, aggregation of refused connections, retention.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AuditEvent, EventQuery, NewEvent } from '../../src/domain/event.js'
import { AuditTrail } from '../../src/events/audit-trail.js'
import { EventRetention } from '../../src/events/event-retention.js'
import { RejectionAggregator } from '../../src/events/rejection-aggregator.js'
import { createLogger } from '../../src/log.js'
import { EmbeddedEventLog } from '../../src/store/embedded/embedded-event-log.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LogSink } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

let dir: string
let store: EmbeddedRegistryStore
let log: EmbeddedEventLog
let clock: number

const START = Date.parse('2026-03-01T00:00:00Z')
const now = (): Date => new Date(clock)

function openLog (options: Partial<ConstructorParameters<typeof EmbeddedEventLog>[0]> = {}): EmbeddedEventLog {
  return new EmbeddedEventLog({ table: () => store.eventTable(), now, ...options })
}

function change (i: number, extra: Partial<NewEvent> = {}): NewEvent {
  return { type: 'certificate.registered', actor: 'admin', target: { kind: 'certificate', id: `cert-${i}` }, details: { n: i }, ...extra }
}

async function all (query: Omit<EventQuery, 'limit' | 'cursor'> = {}, limit = 500): Promise<AuditEvent[]> {
  const items: AuditEvent[] = []
  let cursor: string | undefined
  do {
    const page = await log.query({ ...query, limit, ...(cursor === undefined ? {} : { cursor }) })
    items.push(...page.items)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return items
}

beforeEach(async () => {
  clock = START
  dir = await mkdtemp(join(tmpdir(), 'certmq-events-'))
  store = new EmbeddedRegistryStore({ path: join(dir, 'registry') })
  await store.open()
  log = openLog()
})

afterEach(async () => {
  await log.close()
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('appending', () => {
  it('never reuses or goes below a stored id after a restart with the clock stepped back', async () => {
    const before = [log.append(change(1)), log.append(change(2))]
    await log.flush()
    await log.close()
    clock = START - 60_000 // NTP stepped the clock back while the broker was down
    log = openLog()
    const after = log.append(change(3))
    await log.flush()
    expect(after.id > before[1]!.id).toBe(true)
    expect((await all()).map((e) => e.details['n'])).toEqual([3, 2, 1])
  })

  it('commits a large backlog in slices when an admin change flushes, and still makes that change durable', async () => {
    for (let i = 0; i < 12_000; i++) log.append(change(i, { type: 'connect.rejected', actor: 'device' }))
    const mine = log.append(change(-1))
    let turns = 0
    const counting = setInterval(() => { turns++ }, 0)
    await log.flush()
    clearInterval(counting)
    expect(turns).toBeGreaterThan(0) // the event loop ran between slices
    expect((await log.query({ limit: 1, types: ['certificate.registered'] })).items[0]?.id).toBe(mine.id)
  })

  it('gives each event a sortable id and its time, and keeps it in memory until the batch is committed', async () => {
    const first = log.append(change(1))
    const second = log.append(change(2))
    expect(first.id < second.id).toBe(true)
    expect(first.time).toBe('2026-03-01T00:00:00.000Z')
    // nothing on disk yet: the append was an in-memory push
    expect([...store.eventTable().events.getKeys()]).toEqual([])
    await log.flush()
    expect([...store.eventTable().events.getKeys()]).toEqual([first.id, second.id])
  })

  it('makes concurrent flushes share one transaction (group commit for admin changes)', async () => {
    const txnId = (): number => (store.eventTable().root.getStats() as { lastTxnId: number }).lastTxnId
    const before = txnId()
    const changes = Array.from({ length: 10 }, async (_, i) => {
      const event = log.append(change(i))
      await log.flush()
      return store.eventTable().events.doesExist(event.id)
    })
    expect(await Promise.all(changes)).toEqual(Array(10).fill(true))
    expect(txnId() - before).toBe(1)
  })

  it('commits a batch by itself within the flush interval', async () => {
    log = openLog({ flushMs: 20 })
    const event = log.append(change(1))
    await waitFor(() => store.eventTable().events.doesExist(event.id), { what: 'the batch commit' })
    expect(store.eventTable().events.get(event.id)).toEqual(event)
  })

  it('reports a failed timer commit and goes on with the next batch, even when the report itself throws', async () => {
    let failing = false
    const reports: number[] = []
    log = openLog({
      flushMs: 10,
      table: () => {
        if (failing) throw new Error('disk gone')
        return store.eventTable()
      },
      onFlushError: (_err, dropped) => {
        reports.push(dropped)
        throw new Error('the report is broken too')
      }
    })
    failing = true
    log.append(change(1))
    // a throw out of the timer would be an uncaught exception: the process (here, the test run) dies
    await waitFor(() => reports.length > 0, { what: 'the failure report' })
    failing = false
    const later = log.append(change(2))
    await waitFor(() => store.eventTable().events.doesExist(later.id), { what: 'the next batch' })
    expect(reports).toEqual([1])
  })

  it('commits a backlog larger than one timer batch in slices until all of it is on disk', async () => {
    log = openLog({ flushMs: 10 })
    for (let i = 0; i < 12_000; i++) log.append(change(i))
    const { events } = store.eventTable()
    await waitFor(() => (events.getStats() as { entryCount: number }).entryCount === 12_000, { what: 'the whole backlog', timeoutMs: 20_000 })
  })

  it('keeps events across a restart of the store once they are flushed', async () => {
    const event = log.append(change(1))
    await log.close()
    await store.close()
    store = new EmbeddedRegistryStore({ path: join(dir, 'registry') })
    await store.open()
    log = openLog()
    expect((await log.query({ limit: 10 })).items).toEqual([event])
  })
})

describe('recording operators\' changes', () => {
  it('keeps every event of a change larger than the queue bound, the CA\'s own last (a CA deleted with its certificates)', async () => {
    // a CA deleted with 100,000 certificates makes 100,001 events, one over the default bound
    log = openLog({ maxQueued: 1500 })
    const trail = new AuditTrail({ log, now, rejectionWindowMs: 60_000, logger: createLogger('silent', new LogSink()) })
    const certificates = Array.from({ length: 2500 }, (_, i) => change(i, { type: 'certificate.deleted' }))
    await trail.recordChanges([...certificates, change(-1, { type: 'ca.deleted', target: { kind: 'ca', id: 'ca-1' } })])
    expect(store.eventTable().events.getCount()).toBe(2501)
    expect((await log.query({ limit: 1, types: ['ca.deleted'] })).items).toHaveLength(1)
  })
})

describe('paging newest first', () => {
  it('loses and repeats nothing while new events are appended between pages', async () => {
    const before: AuditEvent[] = []
    for (let i = 0; i < 25; i++) {
      clock += i % 3 === 0 ? 1 : 0
      before.push(log.append(change(i)))
    }
    const seen: AuditEvent[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await log.query({ limit: 4, ...(cursor === undefined ? {} : { cursor }) })
      seen.push(...page.items)
      cursor = page.nextCursor ?? undefined
      pages++
      // newer events arrive while the operator pages back
      clock += 1
      log.append(change(100 + pages))
    } while (cursor !== undefined)
    expect(seen.map((e) => e.id)).toEqual(before.map((e) => e.id).reverse())
    expect(pages).toBe(7)
  })

  it('refuses a cursor no page returned with VALIDATION_FAILED naming cursor, and a limit over 500', async () => {
    await expect(log.query({ limit: 10, cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } })
    await expect(log.query({ limit: 501 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'limit' } })
  })

  it('returns a short page with a cursor when a rare filter exhausts the scan budget, and the next pages go on', async () => {
    log = openLog({ scanBudget: 10 })
    const wanted = [log.append(change(0, { type: 'ca.deleted' }))]
    for (let i = 1; i < 30; i++) log.append(change(i))
    wanted.push(log.append(change(30, { type: 'ca.deleted' })))
    const first = await log.query({ types: ['ca.deleted'], limit: 5 })
    expect(first.items.map((e) => e.id)).toEqual([wanted[1]!.id])
    expect(first.nextCursor).not.toBeNull()
    expect((await all({ types: ['ca.deleted'] }, 5)).map((e) => e.id)).toEqual([wanted[1]!.id, wanted[0]!.id])
  })
})

describe('filters', () => {
  it('select by several types, actor, targetId, reason and an inclusive time range', async () => {
    const registered = log.append(change(1))
    clock += 1000
    const revoked = log.append(change(1, { type: 'certificate.revoked' }))
    clock += 1000
    const caOff = log.append({ type: 'ca.deactivated', actor: 'ops', target: { kind: 'ca', id: 'ca-1' }, details: {} })
    clock += 1000
    const refused = log.append({ type: 'connect.rejected', actor: 'device', target: null, reason: 'no_certificate', count: 1, details: {} })

    const ids = async (query: Omit<EventQuery, 'limit'>): Promise<string[]> => (await all(query)).map((e) => e.id)
    expect(await ids({ types: ['certificate.revoked', 'ca.deactivated'] })).toEqual([caOff.id, revoked.id])
    expect(await ids({ actor: 'ops' })).toEqual([caOff.id])
    expect(await ids({ targetId: 'cert-1' })).toEqual([revoked.id, registered.id])
    expect(await ids({ reason: 'no_certificate' })).toEqual([refused.id])
    expect(await ids({ from: revoked.time, to: caOff.time })).toEqual([caOff.id, revoked.id])
    expect(await ids({ from: new Date(START + 1).toISOString() })).toEqual([refused.id, caOff.id, revoked.id])
    expect(await ids({ to: new Date(START + 999).toISOString() })).toEqual([registered.id])
    expect(await ids({ actor: 'device', types: ['ca.deactivated'] })).toEqual([])
  })
})

describe('the target index', () => {
  it('finds the events of one certificate without scanning the others, with a time range and paging', async () => {
    log = openLog({ scanBudget: 10 })
    const mine: AuditEvent[] = []
    for (let i = 0; i < 40; i++) {
      clock += 1000
      if (i % 13 === 0) mine.push(log.append(change(7, { type: i === 0 ? 'certificate.registered' : 'certificate.deactivated' })))
      else log.append(change(1000 + i))
    }
    expect((await log.query({ targetId: 'cert-7', limit: 10 })).items.map((e) => e.id)).toEqual(mine.map((e) => e.id).reverse())
    const page = await log.query({ targetId: 'cert-7', limit: 2 })
    expect(page.items.map((e) => e.id)).toEqual([mine[3]!.id, mine[2]!.id])
    expect((await log.query({ targetId: 'cert-7', limit: 2, cursor: page.nextCursor! })).items.map((e) => e.id)).toEqual([mine[1]!.id, mine[0]!.id])
    expect((await all({ targetId: 'cert-7', from: mine[1]!.time, to: mine[2]!.time })).map((e) => e.id)).toEqual([mine[2]!.id, mine[1]!.id])
    expect((await all({ targetId: 'cert-7', types: ['certificate.registered'] })).map((e) => e.id)).toEqual([mine[0]!.id])
  })

  it('loses its entries with the events that retention deletes', async () => {
    log.append(change(1))
    clock += 1000
    const kept = log.append(change(1))
    await log.flush()
    expect(await log.prune({ before: kept.time, maxEvents: 1000, batch: 10 })).toBe(1)
    expect([...store.eventTable().eventTargets.getKeys()]).toEqual([`cert-1/${kept.id}`])
    expect((await all({ targetId: 'cert-1' })).map((e) => e.id)).toEqual([kept.id])
  })
})

describe('aggregating refused connections', () => {
  it('makes one event with count 30 for one device refused 30 times within the window', async () => {
    const aggregator = new RejectionAggregator(log, 60_000)
    for (let i = 0; i < 30; i++) {
      aggregator.record({ reason: 'revoked', fingerprint: 'f1', serial: '0A', remoteAddress: '10.0.0.9' }, clock)
      clock += 100
    }
    await log.flush()
    const events = await all()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'connect.rejected', actor: 'device', reason: 'revoked', count: 30,
      target: { kind: 'certificate', id: 'f1' }, details: { serial: '0A', remoteAddress: '10.0.0.9' },
      time: new Date(START).toISOString(), lastTime: new Date(START + 2900).toISOString()
    })
  })

  it('writes the growing count with each batch and opens a new event after the window', async () => {
    const aggregator = new RejectionAggregator(log, 60_000)
    aggregator.record({ reason: 'unknown_ca', fingerprint: 'f1' }, clock)
    await log.flush()
    expect((await all())[0]?.count).toBe(1)
    clock += 1000
    aggregator.record({ reason: 'unknown_ca', fingerprint: 'f1' }, clock)
    await log.flush()
    expect((await all()).map((e) => e.count)).toEqual([2])
    clock += 60_000
    aggregator.record({ reason: 'unknown_ca', fingerprint: 'f1' }, clock)
    await log.flush()
    expect((await all()).map((e) => e.count)).toEqual([1, 2])
  })

  it('keeps devices, reasons and certificate-less addresses apart', async () => {
    const aggregator = new RejectionAggregator(log, 60_000)
    for (let i = 0; i < 3; i++) {
      aggregator.record({ reason: 'revoked', fingerprint: 'f1' }, clock)
      aggregator.record({ reason: 'revoked', fingerprint: 'f2' }, clock)
      aggregator.record({ reason: 'expired', fingerprint: 'f1' }, clock)
      aggregator.record({ reason: 'no_certificate', remoteAddress: '10.0.0.1' }, clock)
      aggregator.record({ reason: 'no_certificate', remoteAddress: '10.0.0.2' }, clock)
    }
    const events = await all()
    expect(events).toHaveLength(5)
    expect(events.every((e) => e.count === 3)).toBe(true)
    expect(events.filter((e) => e.target === null).map((e) => e.details['remoteAddress']).sort()).toEqual(['10.0.0.1', '10.0.0.2'])
  })

  it('closes the oldest window early when too many are open, so a flood of distinct devices stays bounded in memory', async () => {
    const aggregator = new RejectionAggregator(log, 60_000, 2)
    const first = aggregator.record({ reason: 'revoked', fingerprint: 'f1' }, clock)
    aggregator.record({ reason: 'revoked', fingerprint: 'f2' }, clock + 1)
    aggregator.record({ reason: 'revoked', fingerprint: 'f3' }, clock + 2)
    expect(aggregator.size).toBe(2)
    const reopened = aggregator.record({ reason: 'revoked', fingerprint: 'f1' }, clock + 3)
    expect(reopened.id).not.toBe(first.id)
    expect(aggregator.record({ reason: 'revoked', fingerprint: 'f1' }, clock + 4)).toMatchObject({ id: reopened.id, count: 2 })
    expect(aggregator.record({ reason: 'revoked', fingerprint: 'f3' }, clock + 5)).toMatchObject({ count: 2 })
    expect((await all()).map((e) => e.count)).toEqual([2, 2, 1, 1])
  })

  it('never brings back a pruned event when its count grows afterwards', async () => {
    const aggregator = new RejectionAggregator(log, 60_000)
    const event = aggregator.record({ reason: 'revoked', fingerprint: 'f1' }, clock)
    await log.flush()
    expect(await log.prune({ before: new Date(clock + 1).toISOString(), maxEvents: 1000, batch: 10 })).toBe(1)
    aggregator.record({ reason: 'revoked', fingerprint: 'f1' }, clock + 10)
    await log.flush()
    expect(store.eventTable().events.doesExist(event.id)).toBe(false)
  })
})

describe('retention', () => {
  const logger = createLogger('silent', new LogSink())

  it('prunes events older than retentionDays, oldest first, in batches', async () => {
    const old: AuditEvent[] = []
    for (let i = 0; i < 12; i++) old.push(log.append(change(i)))
    clock += 31 * 86_400_000
    const recent = log.append(change(99))
    await log.flush()
    const batches: number[] = []
    const counting = {
      ...log,
      prune: async (limits: Parameters<EmbeddedEventLog['prune']>[0]) => {
        const n = await log.prune(limits)
        batches.push(n)
        return n
      }
    } as unknown as EmbeddedEventLog
    const retention = new EventRetention({ log: counting, retentionDays: 30, maxEvents: 1_000_000, now, logger, batch: 5 })
    expect(await retention.pruneAll()).toBe(12)
    expect(batches).toEqual([5, 5, 2])
    expect((await all()).map((e) => e.id)).toEqual([recent.id])
  })

  it('keeps at most maxEvents, deleting the oldest', async () => {
    const events: AuditEvent[] = []
    for (let i = 0; i < 20; i++) {
      clock += 1
      events.push(log.append(change(i)))
    }
    await log.flush()
    const retention = new EventRetention({ log, retentionDays: 30, maxEvents: 8, now, logger, batch: 3 })
    expect(await retention.pruneAll()).toBe(12)
    expect((await all()).map((e) => e.id)).toEqual(events.slice(12).map((e) => e.id).reverse())
    expect(await retention.pruneAll()).toBe(0)
  })
})
