/**
 * How long one GET /api/v1/events page keeps the event loop busy over a large log: newest page,
 * a deep page through the cursor, and a rare filter that reads the whole scan budget.
 * Run: npx tsx scripts/bench/event-query.ts [events=200000]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { EmbeddedEventLog } from '../../src/store/embedded/embedded-event-log.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'

const TOTAL = Number(process.argv[2] ?? 200_000)
const dir = await mkdtemp(join(tmpdir(), 'certmq-bench-events-'))
const store = new EmbeddedRegistryStore({ path: join(dir, 'registry') })
await store.open()
let clock = Date.parse('2026-01-01T00:00:00Z')
const log = new EmbeddedEventLog({ table: () => store.eventTable(), now: () => new Date(clock), flushMs: 3_600_000 })
for (let i = 0; i < TOTAL; i++) {
  clock += 10
  log.append({
    type: 'connect.rejected', actor: 'device', target: { kind: 'certificate', id: i.toString(16).padStart(64, '0') }, reason: 'unregistered', count: 1,
    details: { serial: '1A2B3C', caId: 'c'.repeat(64), clientId: `car-${i}`, remoteAddress: '10.0.0.1', node: 'node-a' }
  })
  if (i % 20_000 === 0) await log.flush()
}
await log.flush()

async function time (label: string, body: () => Promise<unknown>): Promise<void> {
  const samples: number[] = []
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  for (let i = 0; i < 5; i++) {
    const started = performance.now()
    await body()
    samples.push(performance.now() - started)
  }
  delay.disable()
  samples.sort((a, b) => a - b)
  console.log(`${label.padEnd(56)} median ${samples[2]!.toFixed(1)} ms, max ${samples[4]!.toFixed(1)} ms; ` +
    `longest event-loop block ${(delay.max / 1e6).toFixed(1)} ms`)
}

console.log(`${TOTAL} events`)
await time('newest page, limit 100', async () => await log.query({ limit: 100 }))
await time('newest page, limit 500', async () => await log.query({ limit: 500 }))
const deep = (await log.query({ limit: 500, to: new Date(clock - TOTAL * 5).toISOString() })).nextCursor!
await time('a page in the middle (cursor), limit 500', async () => await log.query({ limit: 500, cursor: deep }))
await time('rare filter (no match): reads the 50,000 scan budget', async () => await log.query({ limit: 100, actor: 'nobody' }))
const deepTarget = (TOTAL / 2).toString(16).padStart(64, '0')
await time('targetId of an event half way down (target index)', async () => await log.query({ limit: 100, targetId: deepTarget }))
await log.close()
await store.close()
await rm(dir, { recursive: true, force: true })
