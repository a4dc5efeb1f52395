/**
 * Certificate search at fleet scale, on a data dir made by scripts/seed-certificates.ts:
 *
 *   node --expose-gc --import tsx scripts/bench-search.ts --dir ./data-100k [--runs 200]
 *
 * Opens the embedded store alone (open time, memory of the projection), then starts a whole
 * certmq on the dir (ports 0) and measures over HTTP, one request at a time:
 * - p50/p99 of the combined query status=active&commonName=SN00*&expiringWithinDays=30&sort=notAfter
 *   and of a few single-filter queries;
 * - paging through every result of the combined query, then through every certificate sorted by
 *   notAfter desc, 500 a page: total time and p50/p99 per page.
 * Prints the numbers; nothing is asserted.
 */
import { parseArgs } from 'node:util'
import { resolve, join } from 'node:path'
import { loadConfig } from '../src/config/load.js'
import { createLogger } from '../src/log.js'
import { startServer } from '../src/server.js'
import { EmbeddedRegistryStore } from '../src/store/embedded/embedded-registry-store.js'
import { percentile, TOKEN } from './bench/lib.js'

const { values } = parseArgs({ options: { dir: { type: 'string' }, runs: { type: 'string', default: '200' } } })
if (values.dir === undefined) {
  process.stderr.write('usage: npx tsx scripts/bench-search.ts --dir <seeded data dir> [--runs 200]\n')
  process.exit(2)
}
const dataDir = resolve(values.dir)
const runs = Number(values.runs)

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const ms = (value: number): string => `${value.toFixed(1)} ms`

// ---- the store alone -------------------------------------------------------------------------
/** heap used after a full GC when node runs with --expose-gc, else as it is */
function heapUsed (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}

const heapBefore = heapUsed()
let t = performance.now()
const store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
await store.open()
const storeOpenMs = performance.now() - t
const heapWithStore = heapUsed()
const certificates = (await store.listCertificates({ limit: 1 })).total
await store.close()
console.log(`certificates: ${certificates}`)
console.log(`store open (read all records, build indexes + projection): ${ms(storeOpenMs)}, heap +${mb(heapWithStore - heapBefore)}`)

// ---- the whole server ------------------------------------------------------------------------
const { config } = loadConfig({
  cwd: dataDir,
  env: {
    CERTMQ_DATA_DIR: dataDir,
    CERTMQ_MQTTS_HOST: '127.0.0.1',
    CERTMQ_MQTTS_PORT: '0',
    CERTMQ_ADMIN_PORT: '0',
    CERTMQ_ADMIN_TOKEN: TOKEN,
    CERTMQ_NODE_NAME: 'bench-search'
  }
})
t = performance.now()
const server = await startServer(config, { logger: createLogger('warn') })
const startMs = performance.now() - t
const heapAfterStart = heapUsed()
console.log(`server start-up: ${ms(startMs)}; after start rss ${mb(process.memoryUsage().rss)}, heap used ${mb(heapAfterStart)}`)

interface Page { items: Array<{ id: string }>, nextCursor: string | null, total: number }

async function get (query: string): Promise<{ page: Page, elapsed: number }> {
  const started = performance.now()
  const response = await fetch(`${server.adminUrl}/api/v1/certificates?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } })
  const page = await response.json() as Page
  const elapsed = performance.now() - started
  if (response.status !== 200) throw new Error(`GET ?${query}: ${response.status} ${JSON.stringify(page)}`)
  return { page, elapsed }
}

async function latency (label: string, query: string): Promise<void> {
  for (let i = 0; i < 10; i++) await get(query)
  const times: number[] = []
  let total = 0
  for (let i = 0; i < runs; i++) {
    const { page, elapsed } = await get(query)
    times.push(elapsed)
    total = page.total
  }
  console.log(`${label.padEnd(44)} total ${String(total).padStart(6)}  p50 ${ms(percentile(times, 50)).padStart(9)}  p99 ${ms(percentile(times, 99)).padStart(9)}  (${runs} runs)`)
}

async function pageThrough (label: string, query: string): Promise<void> {
  const times: number[] = []
  const seen = new Set<string>()
  let cursor: string | null = null
  let total = 0
  const started = performance.now()
  do {
    const { page, elapsed }: { page: Page, elapsed: number } =
      await get(`${query}&limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    times.push(elapsed)
    for (const item of page.items) seen.add(item.id)
    total = page.total
    cursor = page.nextCursor
  } while (cursor !== null)
  const all = performance.now() - started
  console.log(`${label.padEnd(44)} ${seen.size}/${total} in ${times.length} pages: ${ms(all)} in all, per page p50 ${ms(percentile(times, 50))} p99 ${ms(percentile(times, 99))}`)
}

try {
  const combined = 'status=active&commonName=SN00*&expiringWithinDays=30&sort=notAfter'
  console.log('\nquery latency over HTTP (limit 100 unless said)')
  await latency('combined: ' + combined.replace(/&/g, ' '), combined)
  await latency('no filter, id order', '')
  await latency('no filter, sort=notAfter desc', 'sort=notAfter&order=desc')
  await latency('expired=true', 'expired=true')
  await latency('clientId=veh-SN050000', 'clientId=veh-SN050000')
  await latency('combined, limit 500', `${combined}&limit=500`)
  console.log('\npaging with limit 500')
  await pageThrough('combined query', combined)
  await pageThrough('every certificate, sort=notAfter desc', 'sort=notAfter&order=desc')
} finally {
  await server.stop()
}
