/**
 * Connect benchmark (issue: device authentication, numbers to report): mTLS connects per second
 * and CONNECT→CONNACK latency for N distinct registered devices against certmq, and against a
 * plain Aedes TLS server with no certificate logic, alternating in one run; broker CPU per
 * connect from /proc; then the time from a revoke API call to the subscriber's disconnect.
 *
 *   npm run bench                      # 1000 devices, concurrency 50, 5 repetitions
 *   npm run bench -- --devices 200 --reps 1
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { openSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls'
import { parseArgs } from 'node:util'
import mqttPacket from 'mqtt-packet'
import { createCaCertificate, issueCertificate } from '../src/pki/certificate-authority.js'

const ROOT = join(import.meta.dirname, '..')
const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    reps: { type: 'string', default: '5' },
    // pin the brokers to CPU 0 and this driver to the others (needs taskset and 2+ CPUs)
    pin: { type: 'boolean', default: true },
    revocations: { type: 'string', default: '20' },
    // offered connects per second (0: as fast as the concurrency allows). At one fixed rate both
    // targets do the same work per second, so their CPU per connect compares like for like
    rate: { type: 'string', default: '200' },
    // connects, not counted, that warm a target before each of its rounds
    warmup: { type: 'string', default: '200' },
    // write a V8 CPU profile of the certmq process into this directory
    'cpu-prof': { type: 'string' },
    // certmq's log level for the run (info is the default and logs every connect decision)
    'log-level': { type: 'string', default: 'info' }
  }
})
const DEVICES = Number(args.devices)
const CONCURRENCY = Number(args.concurrency)
const REPS = Number(args.reps)
const REVOCATIONS = Number(args.revocations)
const WARMUP = Math.min(Number(args.warmup), DEVICES)
const RATE = Number(args.rate)
const TOKEN = 'bench-token-not-a-secret-0000'

/**
 * The brokers share CPU 0 (one runs at a time) and the driver takes the rest, so a broker's CPU
 * per connect is not skewed by where the scheduler happens to put the driver's handshakes.
 */
const PIN = args.pin && availableParallelism() >= 2 && hasTaskset()
function hasTaskset (): boolean {
  try { execFileSync('taskset', ['-V'], { stdio: 'ignore' }); return true } catch { return false }
}
if (PIN) execFileSync('taskset', ['-a', '-cp', `1-${availableParallelism() - 1}`, String(process.pid)], { stdio: 'ignore' })
/** The command line that starts a broker, pinned to CPU 0 when PIN. */
function brokerCommand (args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args]
}

interface Device { certPem: string; keyPem: string; context?: SecureContext }
interface Target { name: string; child: ChildProcess; port: number }
interface Round { connectsPerSec: number; p50: number; p99: number; failures: number; cpuMsPerConnect: number }

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50)

async function makeFleet (count: number, ou: string): Promise<{ ca: { certificatePem: string; privateKeyPem: string }; devices: Device[] }> {
  const ca = await createCaCertificate({ commonName: `Bench ${ou} CA`, validityDays: 30, keyAlgorithm: 'EC-P256' })
  const devices: Device[] = []
  for (let i = 0; i < count; i++) {
    const leaf = await issueCertificate({
      issuerCertificatePem: ca.certificatePem,
      issuerPrivateKeyPem: ca.privateKeyPem,
      subject: { commonName: `SN${String(i).padStart(6, '0')}`, organizationalUnit: ou, organization: 'bench' },
      keyAlgorithm: 'EC-P256',
      validityDays: 30,
      purpose: 'client'
    })
    devices.push({ certPem: leaf.certificatePem, keyPem: leaf.privateKeyPem })
  }
  return { ca, devices }
}

async function waitForLine (child: ChildProcess, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return await new Promise((resolve, reject) => {
    let partial = ''
    const onData = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>
          if (match(parsed)) { child.stdout!.off('data', onData); child.stdout!.resume(); resolve(parsed); return }
        } catch { /* not JSON */ }
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => { reject(new Error(`process exited with ${String(code)}`)) })
  })
}

/** A port nothing listens on right now (the OS picks it). */
async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

/** Polls certmq's /healthz until both listeners are up. */
async function waitForHealthy (url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`certmq exited with ${child.exitCode}; see its log`)
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`certmq did not become healthy at ${url}`)
}

function cpuMs (pid: number): Promise<number> {
  return readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10 // utime + stime, 100 ticks/s
  })
}

async function api (base: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const json = await res.json() as Record<string, unknown>
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

const CONNECT = (clientId: string): Buffer => mqttPacket.generate({ cmd: 'connect', clientId, clean: true, keepalive: 60, protocolId: 'MQTT', protocolVersion: 4 })

/** Opens TLS, sends CONNECT, resolves with the CONNACK code and the CONNECT→CONNACK time. */
async function connectOnce (port: number, device: Device, clientId: string):
  Promise<{ code: number; ms: number; close: () => void; closed: Promise<number> }> {
  return await new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: device.context, rejectUnauthorized: false })
    // measure the broker, not Nagle's algorithm on this side of the connection
    socket.setNoDelay(true)
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    let sentAt = 0
    const closed = new Promise<number>((resolveClosed) => { socket.once('close', () => { resolveClosed(performance.now()) }) })
    socket.once('secureConnect', () => { sentAt = performance.now(); socket.write(CONNECT(clientId)) })
    parser.once('packet', (packet) => {
      const code = packet.cmd === 'connack' ? (packet.returnCode ?? -1) : -1
      resolve({ code, ms: performance.now() - sentAt, close: () => socket.destroy(), closed })
    })
    socket.on('data', (chunk: Buffer) => { parser.parse(chunk) })
    socket.once('error', reject)
  })
}

async function connectRound (target: Target, devices: Device[]): Promise<Round> {
  const latencies: number[] = []
  const sockets: Array<() => void> = []
  let failures = 0
  let next = 0
  const cpuBefore = await cpuMs(target.child.pid!)
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < devices.length) {
      const i = next++
      if (RATE > 0) {
        // open-loop pacing: device i starts at i / RATE seconds (or later, when all slots are busy)
        const due = started + (i * 1000) / RATE - performance.now()
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
      }
      try {
        const result = await connectOnce(target.port, devices[i]!, `SN${String(i).padStart(6, '0')}`)
        sockets.push(result.close)
        if (result.code === 0) latencies.push(result.ms)
        else failures++
      } catch {
        failures++
      }
    }
  }))
  const seconds = (performance.now() - started) / 1000
  const cpu = (await cpuMs(target.child.pid!)) - cpuBefore
  for (const close of sockets) close()
  await new Promise((resolve) => setTimeout(resolve, 1500)) // let the broker release them
  latencies.sort((a, b) => a - b)
  return { connectsPerSec: devices.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, cpuMsPerConnect: cpu / devices.length }
}

async function main (): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'certmq-bench-'))
  process.stdout.write(`making ${DEVICES + REVOCATIONS} device certificates…\n`)
  const { ca, devices } = await makeFleet(DEVICES + REVOCATIONS, 'bench')
  for (const d of devices) d.context = createSecureContext({ cert: d.certPem, key: d.keyPem })

  const profile = args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']]
  // certmq logs to a file, as under a service manager: the bench does not spend CPU reading it
  const [mqttsPort, adminPort] = [await freePort(), await freePort()]
  // the built broker, as `npm start` runs it: no TypeScript loader in the measured process
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
  const certmqChild = spawn(...brokerCommand([...profile, join(ROOT, 'bin/certmq.js'), 'serve']), {
    cwd: work,
    env: {
      ...process.env,
      CERTMQ_DATA_DIR: join(work, 'data'),
      CERTMQ_MQTTS_HOST: '127.0.0.1',
      CERTMQ_MQTTS_PORT: String(mqttsPort),
      CERTMQ_ADMIN_PORT: String(adminPort),
      CERTMQ_ADMIN_TOKEN: TOKEN,
      CERTMQ_LOG_LEVEL: args['log-level']
    },
    stdio: ['ignore', openSync(join(work, 'certmq.log'), 'a'), 'inherit']
  })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  await waitForHealthy(adminUrl, certmqChild)
  const certmq: Target = { name: 'certmq', child: certmqChild, port: mqttsPort }

  process.stdout.write(`registering the CA and ${devices.length} certificates through the admin API…\n`)
  const caRecord = await api(adminUrl, 'POST', '/api/v1/cas', { certificatePem: ca.certificatePem, registrationMode: 'manual' })
  const ids: string[] = []
  for (let i = 0; i < devices.length; i += 20) {
    const batch = await Promise.all(devices.slice(i, i + 20).map(async (d) => await api(adminUrl, 'POST', '/api/v1/certificates', { caId: caRecord['id'], certificatePem: d.certPem })))
    ids.push(...batch.map((r) => String(r['id'])))
  }

  const caFile = join(work, 'fleet-ca.pem')
  await writeFile(caFile, ca.certificatePem)
  const plainChild = spawn(...brokerCommand([...profile, join(ROOT, 'scripts/plain-aedes-tls.mjs'),
    join(work, 'data', 'tls', 'server.pem'), join(work, 'data', 'tls', 'server.key'), caFile, join(work, 'data', 'ca', 'builtin-ca.pem')]),
  { stdio: ['ignore', 'pipe', 'inherit'] })
  const plain: Target = { name: 'plain aedes', child: plainChild, port: Number((await waitForLine(plainChild, (l) => l['event'] === 'listening'))['port']) }

  const fleet = devices.slice(0, DEVICES)
  const rounds: Record<string, Round[]> = { certmq: [], 'plain aedes': [] }
  for (let rep = 0; rep < REPS; rep++) {
    for (const target of rep % 2 === 0 ? [certmq, plain] : [plain, certmq]) {
      // a target that sat idle while the other one ran is warmed again first (JIT, heap sizing,
      // caches) with a short round that is not counted: the rounds measure steady state, not
      // the first seconds after an idle period (measured: up to +30% CPU per connect on certmq)
      await connectRound(target, fleet.slice(0, WARMUP))
      const round = await connectRound(target, fleet)
      rounds[target.name]!.push(round)
      process.stdout.write(`  rep ${rep + 1} ${target.name}: ${round.connectsPerSec.toFixed(0)} connects/s, p50 ${round.p50.toFixed(2)} ms, p99 ${round.p99.toFixed(2)} ms, ${round.cpuMsPerConnect.toFixed(2)} CPU ms/connect, ${round.failures} failures\n`)
    }
  }

  // revoke → disconnect
  const revokeMs: number[] = []
  for (let i = 0; i < REVOCATIONS; i++) {
    const index = DEVICES + i
    const held = await connectOnce(certmq.port, devices[index]!, `revoke-${i}`)
    if (held.code !== 0) throw new Error(`revocation device ${i} was refused with ${held.code}`)
    const t0 = performance.now()
    await api(adminUrl, 'POST', `/api/v1/certificates/${ids[index]!}/revoke`, { confirm: true })
    revokeMs.push((await held.closed) - t0)
  }
  revokeMs.sort((a, b) => a - b)

  certmqChild.kill('SIGTERM')
  plainChild.kill('SIGTERM')

  const summary = (name: string): string => {
    const r = rounds[name]!
    const col = (f: (x: Round) => number, d = 2): string => `${median(r.map(f)).toFixed(d)} (${Math.min(...r.map(f)).toFixed(d)}–${Math.max(...r.map(f)).toFixed(d)})`
    return `| ${name} | ${col((x) => x.connectsPerSec, 0)} | ${col((x) => x.p50)} | ${col((x) => x.p99)} | ${col((x) => x.cpuMsPerConnect)} | ${r.reduce((s, x) => s + x.failures, 0)} |`
  }
  const ratio = (f: (x: Round) => number): string => (median(rounds['certmq']!.map(f)) / median(rounds['plain aedes']!.map(f))).toFixed(3)
  const report = [
    `# certmq connect benchmark — ${new Date().toISOString()}`,
    '',
    `${DEVICES} distinct registered devices (EC P-256), concurrency ${CONCURRENCY}, ${REPS} repetitions alternating targets, each round after ${WARMUP} uncounted warm-up connects; ${RATE > 0 ? `offered rate ${RATE} connects/s` : 'no pacing (as fast as the concurrency allows)'}; median (min–max).`,
    PIN ? 'Brokers pinned to CPU 0, the driver to the other CPUs (taskset).' : 'No CPU pinning: brokers and driver share all CPUs.',
    '',
    '| target | connects/s | CONNECT→CONNACK p50 ms | p99 ms | broker CPU ms/connect | failures |',
    '| --- | --- | --- | --- | --- | --- |',
    summary('certmq'),
    summary('plain aedes'),
    '',
    `certmq / plain: connects/s ${ratio((x) => x.connectsPerSec)}, p50 ${ratio((x) => x.p50)}, p99 ${ratio((x) => x.p99)}, CPU per connect ${ratio((x) => x.cpuMsPerConnect)}`,
    '',
    `Revoke API call → subscriber disconnected (${REVOCATIONS} devices): p50 ${percentile(revokeMs, 50).toFixed(1)} ms, p99 ${percentile(revokeMs, 99).toFixed(1)} ms, max ${revokeMs.at(-1)!.toFixed(1)} ms`,
    ''
  ].join('\n')
  process.stdout.write('\n' + report)
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true })
  await writeFile(join(ROOT, 'bench', 'results', `connect-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), report)
  await rm(work, { recursive: true, force: true })
}

await main()
