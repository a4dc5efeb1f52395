/**
 * Microbenchmark of what events add to a CONNECT: the in-memory work on the event loop per
 * refused connect (same device retrying: a count bump; distinct devices: a new event) and per
 * automatic registration (an append), and the batch commit that the 200 ms timer does later.
 * Run: npx tsx scripts/bench/event-append.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AuditTrail } from '../../src/events/audit-trail.js'
import { createLogger } from '../../src/log.js'
import { EmbeddedEventLog } from '../../src/store/embedded/embedded-event-log.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { makeCa, makeCertificate } from '../../test/contract/registry-store-records.js'

const N = 100_000
const dir = await mkdtemp(join(tmpdir(), 'certmq-bench-events-'))
const store = new EmbeddedRegistryStore({ path: join(dir, 'registry') })
await store.open()
// a long flush interval so the measured loops do only in-memory work; commits are timed apart
const log = new EmbeddedEventLog({ table: () => store.eventTable(), now: () => new Date(), flushMs: 3_600_000 })
const trail = new AuditTrail({ log, now: () => new Date(), rejectionWindowMs: 60_000, logger: createLogger('silent') })
const fingerprints = Array.from({ length: N }, (_, i) => i.toString(16).padStart(64, '0'))

function perCall (label: string, body: (i: number) => void): void {
  for (let i = 0; i < 2000; i++) body(i) // warm-up
  const started = process.hrtime.bigint()
  for (let i = 0; i < N; i++) body(i)
  const us = Number(process.hrtime.bigint() - started) / 1000 / N
  console.log(`${label.padEnd(58)} ${us.toFixed(2)} µs per call`)
}

async function commit (label: string): Promise<void> {
  const started = process.hrtime.bigint()
  await log.flush()
  console.log(`${label.padEnd(58)} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`)
}

const attempt = (fingerprint: string): Parameters<AuditTrail['rejected']>[0] => ({
  reason: 'revoked', fingerprint, serial: '1A2B3C', caId: 'c'.repeat(64), clientId: 'car-1', remoteAddress: '10.0.0.1', node: 'node-a'
})

perCall('refused connect, same device retrying (count bump)', () => { trail.rejected(attempt(fingerprints[0]!)) })
await commit('  commit of that batch (1 event)')
perCall('refused connect, a different device each time (new event)', (i) => { trail.rejected(attempt(fingerprints[i]!)) })
await commit(`  one explicit commit of that batch (${N} events; the timer takes 5,000 at a time)`)
const registered = makeCertificate(makeCa(), { source: 'auto' })
perCall('automatic registration event (append)', (i) => {
  trail.autoRegistered({ ...registered, id: fingerprints[i]!, commonName: `SN${i}` })
})
await commit(`  one explicit commit of that batch (${N} events; the timer takes 5,000 at a time)`)
for (let i = 0; i < 200; i++) trail.rejected(attempt(`x${i}`))
await commit('  commit of a typical 200 ms batch (200 events)')
console.log('accepted connect of a registered device: no event, nothing added')

await log.close()
await store.close()
await rm(dir, { recursive: true, force: true })
