/**
 * certmq's benchmark suite (`npm run bench`): certmq, a plain Aedes TLS server and Mosquitto
 * (when installed) side by side in one run, alternating targets over repetitions; medians and
 * min–max; a Markdown report in bench/results/ and a summary on stdout. docs/benchmarks.md says
 * how to read it.
 *
 *   npm run bench                                  # everything, 3 repetitions
 *   npm run bench -- --only connect,storm --reps 5
 *   npm run bench -- --only connect,burst --baseline ../certmq-before   # before/after a change
 */
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { burst, type BurstResult } from './burst.js'
import { connectRound, interleavedRounds, type ConnectRound } from './connect.js'
import { makeFleet, registerFleet } from './driver.js'
import { judgeGoal, median, PIN, ROOT, spread } from './lib.js'
import { pemChain } from '../../src/pki/pem.js'
import { idleMemory, type MemoryResult } from './memory.js'
import { revocation, type RevocationResult } from './revocation.js'
import { reconnectStorm, type StormResult } from './storm.js'
import { mosquittoInstalled, opensslArgs, startCertmq, startMosquitto, startPlainAedes, withTargets, type Target } from './targets.js'
import { throughput, type ThroughputResult } from './throughput.js'

const ALL = ['connect', 'memory', 'throughput', 'burst', 'revocation', 'storm'] as const
type Measure = typeof ALL[number]

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: ALL.join(',') },
    reps: { type: 'string', default: '3' },
    // connect rounds are short and the noisiest measurement: more of them
    'connect-reps': { type: 'string', default: '8' },
    // a light-load round: latency of the CONNECT path itself, not of the queue behind a busy core
    'light-rate': { type: 'string', default: '50' },
    'light-devices': { type: 'string', default: '300' },
    // the paced, unpaced and light-load rounds interleave their targets in blocks of this many
    // devices (connect.ts interleavedRounds); 0: each target's whole round in one go
    block: { type: 'string', default: '50' },
    'unpaced-block': { type: 'string', default: '200' },
    'light-block': { type: 'string', default: '10' },
    devices: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    rate: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '200' },
    'memory-connections': { type: 'string', default: '2000' },
    'throughput-seconds': { type: 'string', default: '10' },
    // offered publishes per second, all publishers together: pairs, and the fan-out's one publisher
    'pair-rate': { type: 'string', default: '20000' },
    'fanout-rate': { type: 'string', default: '500' },
    burst: { type: 'string', default: '300' },
    revocations: { type: 'string', default: '100' },
    'no-mosquitto': { type: 'boolean', default: false },
    // certmq with mqtts.advertiseCas, and plain Aedes with the same CA list in its TLS context
    'advertise-cas': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    baseline: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    'plain-node-args': { type: 'string', default: '' }
  }
})
const only = new Set(args.only.split(',').map((s) => s.trim()))
for (const name of only) if (!(ALL as readonly string[]).includes(name)) throw new Error(`--only: unknown measurement "${name}" (known: ${ALL.join(', ')})`)
const wants = (m: Measure): boolean => only.has(m)
const REPS = Number(args.reps)
const CONNECT_REPS = Number(args['connect-reps'])
const DEVICES = Number(args.devices)
const log = (line: string): void => { process.stdout.write(`${line}\n`) }

/** `--node-args` and `--plain-node-args`: flags separated by spaces. */
function flagList (value: string): string[] {
  return value.split(/\s+/).filter((flag) => flag !== '')
}

/** A certmq from another checkout, built there first; the bench's own server files are shared. */
async function startBaseline (dir: string, work: string, env: Record<string, string>): Promise<Target> {
  const root = resolve(dir)
  if (!existsSync(join(root, 'package.json'))) throw new Error(`--baseline: ${root} is not a certmq checkout`)
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
  const baseWork = join(work, 'baseline')
  await mkdir(join(baseWork, 'data'), { recursive: true })
  // the same server certificate as certmq's, so the handshakes cost the same
  await cp(join(work, 'data', 'tls'), join(baseWork, 'data', 'tls'), { recursive: true })
  await cp(join(work, 'data', 'ca'), join(baseWork, 'data', 'ca'), { recursive: true })
  return await startCertmq(baseWork, env, [], root, 'certmq baseline')
}

async function main (): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
  const work = await mkdtemp(join(tmpdir(), 'certmq-bench-'))
  const revocations = wants('revocation') ? Number(args.revocations) : 0
  log(`making ${DEVICES + revocations} device certificates…`)
  const fleet = await makeFleet(DEVICES + revocations, 'bench')
  const devices = fleet.devices.slice(0, DEVICES)
  const caFile = join(work, 'fleet-ca.pem')
  await writeFile(caFile, fleet.ca.certificatePem)

  // --node-args "--flag …": node/V8 flags for certmq only (e.g. to try a GC setting against the baseline)
  const profile = args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']]
  const nodeArgs = [...flagList(args['node-args']), ...profile]
  const advertise: Record<string, string> = args['advertise-cas'] ? { CERTMQ_MQTTS_ADVERTISE_CAS: 'true' } : {}
  // every broker started below is stopped at the end, also when a start, a registration or a
  // measurement fails or the bench is interrupted
  const text = await withTargets(async (start) => {
    const certmq = await start(startCertmq(work, advertise, nodeArgs))
    // --baseline <checkout>: the same product built elsewhere (e.g. main before a change), measured alongside
    // a baseline from before mqtts.advertiseCas (2026-11-28) names its CAs whatever this says
    const baseline = args.baseline === undefined ? undefined : await start(startBaseline(args.baseline, work, advertise))
    const certmqs = baseline === undefined ? [certmq] : [certmq, baseline]
    for (const target of certmqs) {
      log(`registering the fleet CA and ${fleet.devices.length} certificates with ${target.name}…`)
      await registerFleet(target.adminUrl!, fleet)
    }
    // the chain certmq presents (its certificate, then the built-in CA), so no target has OpenSSL
    // rebuild it per handshake and all send the same bytes
    const chainFile = join(work, 'server-chain.pem')
    await writeFile(chainFile, pemChain(await readFile(join(work, 'data', 'tls', 'server.pem'), 'utf8'), await readFile(join(work, 'data', 'ca', 'builtin-ca.pem'), 'utf8')))
    const tls = { certFile: chainFile, keyFile: join(work, 'data', 'tls', 'server.key'), clientCaFiles: [join(work, 'data', 'ca', 'builtin-ca.pem'), caFile] }
    // plain Aedes has certmq's TLS context: as shipped it names no CA (mqtts.advertiseCas), so its
    // OpenSSL verifies no chain either. Mosquitto needs its cafile for require_certificate
    const plainTls = { ...tls, clientCaFiles: args['advertise-cas'] ? tls.clientCaFiles : [] }
    // --plain-node-args "--flag …": the same for plain Aedes, e.g. certmq's own V8 settings to compare at equal settings
    const plainArgs = [...flagList(args['plain-node-args']), ...profile]
    const targets: Target[] = [...certmqs, await start(startPlainAedes(plainTls, plainArgs))]
    if (!args['no-mosquitto'] && mosquittoInstalled()) targets.push(await start(startMosquitto(work, tls)))
    else log('mosquitto: not installed (apt-get install mosquitto) or --no-mosquitto; measured without it')
    const order = (rep: number): Target[] => targets.map((_, i) => targets[(i + rep) % targets.length]!)

    const report: string[] = [
      `# certmq benchmark — ${new Date().toISOString()}`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}. ${PIN ? 'Brokers pinned to CPU 0, the driver to the others (taskset).' : 'No CPU pinning.'}`,
      `Targets: ${targets.map((t) => t.name).join(', ')}. ${REPS} repetitions alternating targets (connect: ${CONNECT_REPS}); median (min–max).`,
      `Node flags: certmq ${nodeArgs.length === 0 ? 'none' : nodeArgs.join(' ')} (its own V8 settings: runtime.* in docs/config.md); plain aedes ${plainArgs.length === 0 ? 'none' : plainArgs.join(' ')}.`,
      `OpenSSL: certmq and plain aedes ${opensslArgs(ROOT).length > 0 ? 'with bin/openssl.cnf, as bin/certmq starts certmq (one TLS 1.3 session ticket per handshake; a --baseline with its own, if it has one)' : 'with the OPENSSL_CONF of this shell'}${plainArgs.some((a) => a.startsWith('--openssl-config')) ? ', plain aedes with the file its flags name' : ''}; Mosquitto with OpenSSL's defaults (two).`,
      `TLS CA list (mqtts.advertiseCas): ${args['advertise-cas'] ? 'certmq and plain aedes name the fleet and built-in CAs, and their OpenSSL verifies each chain' : 'certmq and plain aedes name none (certmq as shipped); Mosquitto has them as its cafile'}.`,
      ''
    ]
    const ratio = (a: number, b: number): string => Number.isFinite(a / b) ? (a / b).toFixed(2) : '-'

    if (wants('memory')) {
      const results = new Map<string, MemoryResult[]>(targets.map((t) => [t.name, []]))
      const count = Number(args['memory-connections'])
      // one round per target, first of all: a process keeps the memory it once had (V8 and
      // malloc do not give it back), so a second round would measure the reuse of the first
      for (const target of targets) {
        const r = await idleMemory(target, devices, count)
        results.get(target.name)!.push(r)
        log(`  memory ${target.name}: ${r.kibPerConnection.toFixed(1)} KiB per connection (${r.rssBeforeMiB.toFixed(0)} → ${r.rssAfterMiB.toFixed(0)} MiB), ${r.failures} failures`)
      }
      const kib = (name: string): number => median(results.get(name)!.map((r) => r.kibPerConnection))
      report.push('## 2. Memory', '', `${count} idle connections held open; RSS growth over the RSS before them, one round per target before any other measurement.`, '',
        '| target | RSS per connection KiB | RSS before MiB | RSS with connections MiB | failures |', '| --- | --- | --- | --- | --- |',
        ...targets.map((t) => {
          const r = results.get(t.name)!
          return `| ${t.name} | ${spread(r.map((x) => x.kibPerConnection), 1)} | ${spread(r.map((x) => x.rssBeforeMiB), 0)} | ${spread(r.map((x) => x.rssAfterMiB), 0)} | ${r.reduce((s, x) => s + x.failures, 0)} |`
        }), '', `certmq / plain aedes per connection: **${ratio(kib('certmq'), kib('plain aedes'))}** (goal ≤ 1.10).`, '')
    }

    if (wants('connect')) {
      // paced, unpaced and light-load rounds per repetition, the targets interleaved in blocks:
      // the CPU of a small VM drifts by ±15% within seconds to minutes, so ratios are taken
      // between rounds of the same repetition and their median reported, rather than a ratio of
      // medians
      const rounds = new Map<string, ConnectRound[]>(targets.map((t) => [t.name, []]))
      const unpaced = new Map<string, ConnectRound[]>(targets.map((t) => [t.name, []]))
      const light = new Map<string, ConnectRound[]>(targets.map((t) => [t.name, []]))
      const keep = (kind: string, into: Map<string, ConnectRound[]>, target: Target, rep: number, r: ConnectRound): void => {
        into.get(target.name)!.push(r)
        log(`  connect ${kind}rep ${rep + 1} ${target.name}: ${r.connectsPerSec.toFixed(0)}/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.cpuMsPerConnect.toFixed(2)} CPU ms/connect, ${r.failures} failures`)
      }
      /** One round of every target: interleaved in blocks of `blockSize`, or (0) a whole round per target. */
      const interleaved = async (kind: string, into: Map<string, ConnectRound[]>, rep: number, count: number, rate: number, blockSize: number): Promise<void> => {
        const slice = devices.slice(0, count)
        if (blockSize <= 0) {
          for (const target of order(rep)) keep(kind, into, target, rep, await connectRound(target, slice, Number(args.concurrency), rate))
          return
        }
        const byTarget = await interleavedRounds(order(rep), slice, Number(args.concurrency), rate, blockSize)
        for (const target of order(rep)) keep(kind, into, target, rep, byTarget.get(target.name)!)
      }
      for (let rep = 0; rep < CONNECT_REPS; rep++) {
        for (const target of order(rep)) {
          await connectRound(target, devices.slice(0, Number(args.warmup)), Number(args.concurrency), 0) // warm-up, not counted
        }
        await interleaved('', rounds, rep, devices.length, Number(args.rate), Number(args.block))
        // the most a broker can take: the same devices with no pacing
        await interleaved('unpaced ', unpaced, rep, devices.length, 0, Number(args['unpaced-block']))
        await interleaved('light ', light, rep, Number(args['light-devices']), Number(args['light-rate']), Number(args['light-block']))
      }
      /** a / b in each repetition, or undefined when either target did not run */
      const ratios = (of: Map<string, ConnectRound[]>, a: string, b: string, pick: (r: ConnectRound) => number): number[] | undefined => {
        const [xs, ys] = [of.get(a), of.get(b)]
        if (xs === undefined || ys === undefined) return undefined
        return xs.map((x, i) => pick(x) / pick(ys[i]!))
      }
      const paired = (of: Map<string, ConnectRound[]>, a: string, b: string, pick: (r: ConnectRound) => number): string => {
        const xs = ratios(of, a, b, pick)
        return xs === undefined ? '-' : spread(xs)
      }
      /** A goal line: the per-repetition ratios' median, its interval and what they say (3 digits: the verdict is on the exact values). */
      const goal = (label: string, xs: number[] | undefined, target: { atMost: number } | { atLeast: number }): string[] => {
        if (xs === undefined) return []
        const { verdict, median: middle, interval } = judgeGoal(xs, target)
        const bound = 'atMost' in target ? `≤ ${target.atMost.toFixed(2)}` : `≥ ${target.atLeast.toFixed(2)}`
        const range = interval === undefined ? 'none' : `${interval.low.toFixed(3)}–${interval.high.toFixed(3)} (covers it with ${(interval.coverage * 100).toFixed(1)}%)`
        return [`- ${label} ${bound}: median ${middle.toFixed(3)}, interval of the median ${range}: **${verdict}**`]
      }
      const cpu = (r: ConnectRound): number => r.cpuMsPerConnect
      const rate = (r: ConnectRound): number => r.connectsPerSec
      const p50 = (r: ConnectRound): number => r.p50
      const p99 = (r: ConnectRound): number => r.p99
      report.push('## 1. Connect', '',
        `${DEVICES} registered devices (EC P-256), concurrency ${args.concurrency}; per repetition and target ${args.warmup} uncounted warm-up connects, a round offered ${args.rate} connects/s, an unpaced round ("max connects/s"), and a light-load round (${args['light-devices']} devices at ${args['light-rate']}/s: the latency of the CONNECT path rather than of the queue behind a busy core). ${CONNECT_REPS} repetitions. ${Number(args.block) > 0 || Number(args['unpaced-block']) > 0 || Number(args['light-block']) > 0 ? `Rounds interleave the targets in blocks of ${args.block} (paced), ${args['unpaced-block']} (unpaced) and ${args['light-block']} (light-load) devices (0: a whole round per target), so a drift of the VM's speed reaches every target alike.` : 'Each round is a whole round per target.'}`, '',
        '| target | connects/s | CONNECT→CONNACK p50 ms | p99 ms | broker CPU ms/connect | max connects/s (unpaced) | unpaced CPU ms/connect | light-load p50 ms | light-load p99 ms | failures |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...targets.map((t) => {
          const r = rounds.get(t.name)!
          const u = unpaced.get(t.name)!
          const l = light.get(t.name)!
          const failures = [...r, ...u, ...l].reduce((s, x) => s + x.failures, 0)
          return `| ${t.name} | ${spread(r.map(rate), 0)} | ${spread(r.map(p50))} | ${spread(r.map(p99))} | ${spread(r.map(cpu))} | ${spread(u.map(rate), 0)} | ${spread(u.map(cpu))} | ${spread(l.map(p50))} | ${spread(l.map(p99))} | ${failures} |`
        }), '',
        'Ratios of rounds in the same repetition, median (min–max):', '',
        '| ratio | CPU ms/connect | p50 | p99 | max connects/s | unpaced CPU ms/connect | light-load p50 | light-load p99 |', '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...[['certmq', 'plain aedes'], ['certmq', 'certmq baseline'], ['certmq', 'mosquitto']].filter(([, b]) => rounds.has(b!)).map(([a, b]) =>
          `| ${a} / ${b} | ${paired(rounds, a!, b!, cpu)} | ${paired(rounds, a!, b!, p50)} | ${paired(rounds, a!, b!, p99)} | ${paired(unpaced, a!, b!, rate)} | ${paired(unpaced, a!, b!, cpu)} | ${paired(light, a!, b!, p50)} | ${paired(light, a!, b!, p99)} |`), '',
        `Goals, judged on this run's ${CONNECT_REPS} per-repetition ratios: met when an interval that covers their median with at least 95% (order statistics: it assumes independent repetitions, nothing about the spread of the noise) lies wholly on the goal's side, missed when it lies wholly on the other, undecided when it straddles the goal (more repetitions may decide it). A verdict speaks for this run's conditions: the VM's speed changes between runs, and with it the ratios.`, '',
        ...goal('certmq / plain aedes CPU per connect at the offered rate (issue 2: connect overhead under 10%)', ratios(rounds, 'certmq', 'plain aedes', cpu), { atMost: 1.1 }),
        ...goal('certmq / plain aedes unpaced CPU per connect', ratios(unpaced, 'certmq', 'plain aedes', cpu), { atMost: 1.1 }),
        ...goal('certmq / plain aedes light-load p50', ratios(light, 'certmq', 'plain aedes', p50), { atMost: 1.1 }),
        ...goal('certmq / mosquitto max connects/s', ratios(unpaced, 'certmq', 'mosquitto', rate), { atLeast: 1 }), '')
    }

    if (wants('throughput')) {
      const seconds = Number(args['throughput-seconds'])
      const modes = [
        { label: '10 → 10, QoS 0', publishers: 10, subscribers: 10, fanOut: false, qos: 0 as const, publishesPerSecond: Number(args['pair-rate']) },
        { label: '10 → 10, QoS 1', publishers: 10, subscribers: 10, fanOut: false, qos: 1 as const, publishesPerSecond: Number(args['pair-rate']) },
        { label: '1 → 100 fan-out, QoS 0', publishers: 1, subscribers: 100, fanOut: true, qos: 0 as const, publishesPerSecond: Number(args['fanout-rate']) }
      ]
      report.push('## 3. Throughput', '', `64-byte payloads, ${seconds} s per round; offered ${args['pair-rate']} publishes/s over 10 publishers (pairs) and ${args['fanout-rate']} publishes/s to 100 subscribers (fan-out).`, '',
        '| mode | target | deliveries/s | latency p50 ms | p99 ms | broker CPU µs/delivery | lost |', '| --- | --- | --- | --- | --- | --- | --- |')
      const ratios: string[] = []
      for (const mode of modes) {
        const results = new Map<string, ThroughputResult[]>(targets.map((t) => [t.name, []]))
        for (let rep = 0; rep < REPS; rep++) {
          for (const target of order(rep)) {
            const r = await throughput(target, devices, { ...mode, seconds, payloadBytes: 64 })
            results.get(target.name)!.push(r)
            log(`  throughput ${mode.label} rep ${rep + 1} ${target.name}: ${r.deliveriesPerSec.toFixed(0)}/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.cpuUsPerDelivery.toFixed(1)} µs/delivery, lost ${r.lost}`)
          }
        }
        for (const t of targets) {
          const r = results.get(t.name)!
          report.push(`| ${mode.label} | ${t.name} | ${spread(r.map((x) => x.deliveriesPerSec), 0)} | ${spread(r.map((x) => x.p50))} | ${spread(r.map((x) => x.p99))} | ${spread(r.map((x) => x.cpuUsPerDelivery), 1)} | ${r.reduce((s, x) => s + x.lost, 0)} |`)
        }
        const rate = (name: string): number => median(results.get(name)!.map((r) => r.deliveriesPerSec))
        ratios.push(`${mode.label}: certmq / plain aedes deliveries/s **${ratio(rate('certmq'), rate('plain aedes'))}**`)
      }
      report.push('', `${ratios.join('; ')} (goal ≥ 0.95, nothing lost).`, '')
    }

    if (wants('burst')) {
      report.push('## 4. Auto-registration burst', '',
        `${args.burst} new devices of an auto CA connect at once; refused ones retry together every second.`, '',
        '| target | devices | limit/s | most registered in any sliding second | CONNACK 3 in the first wave | all registered after s | waves |', '| --- | --- | --- | --- | --- | --- | --- |')
      for (const target of certmqs) {
        const burstFleet = await makeFleet(Number(args.burst), `burst-${target.name.replace(/\W+/g, '-')}`, 'BU')
        const r: BurstResult = await burst(target, burstFleet, 15)
        log(`  burst ${target.name}: ${r.maxInAnySecond} registrations in the busiest second (limit ${r.limit}), ${r.rc3FirstWave} × rc 3 in the first wave, all registered after ${r.allRegisteredSeconds.toFixed(1)} s in ${r.waves} waves`)
        report.push(`| ${target.name} | ${r.devices} | ${r.limit} | ${r.maxInAnySecond} | ${r.rc3FirstWave} | ${r.allRegisteredSeconds.toFixed(1)} | ${r.waves} |`)
      }
      report.push('')
    }

    if (wants('revocation')) {
      const r: RevocationResult = await revocation(certmq, fleet.devices.slice(DEVICES, DEVICES + revocations))
      log(`  revocation: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${r.notDropped} not dropped`)
      report.push('## 5. Revocation propagation (certmq)', '',
        `${r.devices} connected devices revoked through the API, ten calls in flight; API call → the device's connection closed.`, '',
        '| devices | p50 ms | p99 ms | max ms | not dropped within 5 s |', '| --- | --- | --- | --- | --- |',
        `| ${r.devices} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.notDropped} |`, '')
    }

    if (wants('storm')) {
      const results = new Map<string, StormResult[]>(targets.map((t) => [t.name, []]))
      for (let rep = 0; rep < REPS; rep++) {
        for (const target of order(rep)) {
          const r = await reconnectStorm(target, devices)
          results.get(target.name)!.push(r)
          log(`  storm rep ${rep + 1} ${target.name}: all ${r.devices} back in ${r.allBackSeconds.toFixed(2)} s, ${r.resumed} resumed, ${r.cpuMsPerReconnect.toFixed(2)} CPU ms/reconnect, ${r.refused} refused, ${r.failures} failures`)
        }
      }
      report.push('## 6. Reconnect storm', '', `${DEVICES} connected devices dropped at once reconnect (200 handshakes in flight), offering their TLS session.`, '',
        '| target | all back after s | TLS sessions resumed | broker CPU ms/reconnect | refused | failures |', '| --- | --- | --- | --- | --- | --- |',
        ...targets.map((t) => {
          const r = results.get(t.name)!
          return `| ${t.name} | ${spread(r.map((x) => x.allBackSeconds))} | ${spread(r.map((x) => x.resumed), 0)} | ${spread(r.map((x) => x.cpuMsPerReconnect))} | ${r.reduce((s, x) => s + x.refused, 0)} | ${r.reduce((s, x) => s + x.failures, 0)} |`
        }), '')
    }
    return report.join('\n')
  })

  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true })
  const file = join(ROOT, 'bench', 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.md`)
  await writeFile(file, text)
  log(`\n${text}\nwritten to ${file}`)
  await rm(work, { recursive: true, force: true })
}

await main()
