/**
 * certmq with a large registry: start-up time and memory, and whether the CONNECT decision gets
 * slower with 100 000 registered certificates than with 1 000.
 *
 *   npx tsx scripts/bench/scale.ts [--large-dir /tmp/seed-100k] [--count 100000] [--devices 500]
 *
 * For each registry size it seeds a data dir (scripts/seed-certificates.ts; a given --large-dir
 * made by that script is reused as is), starts the built bin/certmq.js on it, notes the time until
 * /healthz answers and the RSS, registers a fresh fleet CA and `--devices` devices through the API,
 * connects them at a fixed rate and reads each CONNECT decision's duration from certmq's own
 * `connect.accepted` log lines (`ms`: fingerprint, registry lookup, checks, client ID). Prints a
 * Markdown table; nothing is asserted.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { closeAll, connectWave, makeFleet, registerFleet } from './driver.js'
import { percentile, ROOT, rssBytes, sleep } from './lib.js'
import { startCertmq } from './targets.js'

const { values: args } = parseArgs({
  options: {
    'large-dir': { type: 'string' },
    count: { type: 'string', default: '100000' },
    small: { type: 'string', default: '1000' },
    devices: { type: 'string', default: '500' },
    rate: { type: 'string', default: '100' }
  }
})

interface ScaleResult { certificates: number, startSeconds: number, rssMiB: number, p50: number, p99: number, max: number, connects: number }

async function measure (dataDir: string, certificates: number): Promise<ScaleResult> {
  const work = await mkdtemp(join(tmpdir(), 'certmq-scale-'))
  const started = performance.now()
  // debug: the decision times come from the connect.accepted lines
  const certmq = await startCertmq(work, { CERTMQ_DATA_DIR: dataDir, CERTMQ_LOG_LEVEL: 'debug' })
  const startSeconds = (performance.now() - started) / 1000
  try {
    await sleep(1000)
    const rssMiB = (await rssBytes(certmq.pid)) / 1024 / 1024
    const fleet = await makeFleet(Number(args.devices), `scale-${certificates}`, 'SC')
    await registerFleet(certmq.adminUrl!, fleet)
    const pairs = fleet.devices.map((device) => ({ device, clientId: device.cn }))
    await closeAll((await connectWave(certmq.port, pairs.slice(0, 100), 20, Number(args.rate))).connections) // warm-up
    await sleep(500)
    const log = join(work, 'certmq.log')
    const before = (await readFile(log, 'utf8')).length
    const wave = await connectWave(certmq.port, pairs, 20, Number(args.rate))
    await closeAll(wave.connections)
    await sleep(500) // the log is flushed every 100 ms
    const decisions = (await readFile(log, 'utf8')).slice(before).split('\n')
      .filter((line) => line.includes('"connect.accepted"'))
      .map((line) => (JSON.parse(line) as { ms: number }).ms)
    return { certificates, startSeconds, rssMiB, p50: percentile(decisions, 50), p99: percentile(decisions, 99), max: Math.max(...decisions), connects: decisions.length }
  } finally {
    await certmq.stop()
    await rm(work, { recursive: true, force: true })
  }
}

function seed (dir: string, count: number): void {
  execFileSync('npx', ['tsx', join(ROOT, 'scripts/seed-certificates.ts'), '--dir', dir, '--count', String(count)], { cwd: ROOT, stdio: 'inherit' })
}

execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
const smallDir = await mkdtemp(join(tmpdir(), 'certmq-scale-small-'))
seed(smallDir, Number(args.small))
let largeDir = args['large-dir'] === undefined ? undefined : resolve(args['large-dir'])
let seededLarge = false
if (largeDir === undefined || !existsSync(join(largeDir, 'registry'))) {
  largeDir ??= await mkdtemp(join(tmpdir(), 'certmq-scale-large-'))
  seed(largeDir, Number(args.count))
  seededLarge = true
}
const results = [await measure(smallDir, Number(args.small)), await measure(largeDir, Number(args.count))]
await rm(smallDir, { recursive: true, force: true })
if (seededLarge && args['large-dir'] === undefined) await rm(largeDir, { recursive: true, force: true })

const lines = [
  `| registered certificates | start-up to /healthz s | RSS after start MiB | CONNECT decision p50 ms | p99 ms | max ms | connects |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.certificates} | ${r.startSeconds.toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.connects} |`)
]
process.stdout.write(`${lines.join('\n')}\n`)
