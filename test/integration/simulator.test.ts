/**
 * `certmq simulate` against a certmq started here: the summary's counts must match what the
 * broker itself recorded (its connect decisions and registry), and a revoked device in the fleet
 * must end up refused with CONNACK 5 and counted as such.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer as createTlsServer } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync, type IClientPublishOptions } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import { loadOrCreateFleet, loadOrCreateMonitor } from '../../src/simulator/fleet.js'
import type { SimulationSummary } from '../../src/simulator/stats.js'
import { runSimulation } from '../../src/simulator/run.js'
import { DEFAULT_BACKOFF } from '../../src/simulator/backoff.js'
import { within } from '../../src/timers.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'

async function simulate (certmq: TestCertmq, fleetDir: string, args: string[], broker?: string[]): Promise<{ code: number, summary: SimulationSummary, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const serverCa = join(certmq.dataDir, 'ca', 'builtin-ca.pem')
  const code = await runCli([
    '--json', 'simulate',
    ...(broker ?? ['--broker', `mqtts://localhost:${certmq.mqttsPort}`, '--server-ca', serverCa]),
    '--fleet-dir', fleetDir,
    ...args
  ], {
    env: { CERTMQ_ADMIN_URL: certmq.adminUrl, CERTMQ_ADMIN_TOKEN: certmq.token },
    stdout: { write: (text: string) => { stdout += text; return true } },
    stderr: { write: (text: string) => { stderr += text; return true } }
  })
  return { code, summary: JSON.parse(stdout) as SimulationSummary, stderr }
}

describe('certmq simulate', () => {
  let certmq: TestCertmq
  let fleetDir: string

  beforeAll(async () => {
    certmq = await startCertmq()
    fleetDir = await mkdtemp(join(tmpdir(), 'certmq-sim-'))
  })
  afterAll(async () => {
    await certmq.stop()
    await rm(fleetDir, { recursive: true, force: true })
  })

  it('connects 50 registered devices, publishes telemetry, and counts what the broker recorded', async () => {
    const { code, summary, stderr } = await simulate(certmq, fleetDir, [
      '--fleet', 'fifty', '--devices', '50', '--register', 'devices',
      // 0.5 s of connects at this rate; the rest of the 6 s leaves room for a slow or busy machine
      '--rate', '100', '--concurrency', '10', '--duration', '6',
      '--publish-rate', '2', '--qos', '1', '--commands'
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(summary.devices).toBe(50)
    expect(summary.connect.accepted, JSON.stringify(summary.connect)).toBe(50)
    expect(summary.connect.attempts).toBe(50)
    expect(summary.connect.rejectedByCode).toEqual({})
    expect(summary.connect.latencyMs.count).toBe(50)
    expect(summary.connect.perSecond).toBeGreaterThan(0)

    // the broker's side: one accepted decision per device, and the monitor's, none refused
    const accepted = certmq.logs.events('connect.accepted').filter((l) => String(l['clientId']).startsWith('SN'))
    expect(accepted).toHaveLength(summary.connect.accepted)
    expect(certmq.logs.events('connect.accepted').filter((l) => l['clientId'] === 'fifty-monitor')).toHaveLength(1)
    expect(certmq.logs.events('connect.rejected')).toHaveLength(0)
    // and its registry: 50 devices and the monitor, registered manually, each with its client
    const list = await certmq.api<{ items: Array<{ id: string, source: string, commonName: string }> }>('GET', '/api/v1/certificates?status=active')
    const fleet = list.body.items.filter((c) => c.commonName.startsWith('SN') || c.commonName === 'fifty-monitor')
    expect(fleet).toHaveLength(51)
    expect(new Set(fleet.map((c) => c.source))).toEqual(new Set(['manual']))
    const one = await certmq.api<{ associatedClients: Array<{ clientId: string }> }>('GET', `/api/v1/certificates/${fleet[0]!.id}`)
    expect(one.body.associatedClients[0]?.clientId).toBe(fleet[0]!.commonName)

    // QoS 1 telemetry: every message sent reached the monitor
    expect(summary.messages.sent).toBeGreaterThan(100)
    expect(summary.messages.received).toBe(summary.messages.sent)
    expect(summary.messages.lost).toBe(0)
    expect(summary.messages.latencyMs.count).toBe(summary.messages.received)
    expect(summary.messages.commandsReceived).toBeGreaterThan(0)
  })

  it('reuses the cached fleet on the next run', async () => {
    const again = await loadOrCreateFleet({ dir: fleetDir, fleet: 'fifty', organization: 'certmq simulator', count: 50, keyAlgorithm: 'EC-P256' })
    expect(again.generated).toBe(0)
    expect(again.devices[49]!.commonName).toBe('SN000050')
  })

  it('counts a revoked device of the fleet as refused with CONNACK 5, on every retry', async () => {
    const fleet = await loadOrCreateFleet({ dir: fleetDir, fleet: 'revoked', organization: 'certmq simulator', count: 11, keyAlgorithm: 'EC-P256' })
    // register the fleet, then revoke device SN000004 before the run
    const ca = await certmq.api<{ id: string }>('POST', '/api/v1/cas', { certificatePem: fleet.ca.certificatePem, registrationMode: 'manual' })
    expect(ca.status).toBe(201)
    for (const device of fleet.devices) {
      expect((await certmq.api('POST', '/api/v1/certificates', { caId: ca.body.id, certificatePem: device.certificatePem })).status).toBe(201)
    }
    const revoked = fleet.devices[3]!
    expect((await certmq.api('POST', `/api/v1/certificates/${revoked.fingerprint}/revoke`, { confirm: true })).status).toBe(200)
    const before = certmq.logs.events('connect.rejected').length

    const { code, summary } = await simulate(certmq, fleetDir, [
      '--fleet', 'revoked', '--devices', '10', '--register', 'ca-manual',
      '--rate', '50', '--duration', '3', '--retries', '2'
    ])
    expect(code).toBe(0)
    expect(summary.connect.accepted).toBe(9)
    // the first attempt and both retries
    expect(summary.connect.rejectedByCode).toEqual({ 5: 3 })
    expect(summary.connect.reconnects).toBe(2)
    const rejected = certmq.logs.events('connect.rejected').slice(before)
    expect(rejected).toHaveLength(3)
    expect(rejected.every((l) => l.reason === 'revoked' && l['fingerprint'] === revoked.fingerprint)).toBe(true)
  })

  it('rehearses a manual CA with no device registered: every device is refused (rc 5), the monitor still connects', async () => {
    const before = certmq.logs.events('connect.rejected').length
    const { code, summary, stderr } = await simulate(certmq, fleetDir, [
      '--fleet', 'manual-new', '--devices', '4', '--register', 'ca-manual',
      '--rate', '50', '--duration', '2', '--retries', '0'
    ])
    expect(code, stderr).toBe(0)
    expect(summary.connect.accepted).toBe(0)
    expect(summary.connect.rejectedByCode).toEqual({ 5: 4 })
    const rejected = certmq.logs.events('connect.rejected').slice(before)
    expect(rejected.map((l) => l.reason)).toEqual(['unregistered', 'unregistered', 'unregistered', 'unregistered'])
  })

  it('rehearses a reconnect storm: every device comes back, resuming its TLS session, and is checked against the registry again', async () => {
    const before = certmq.logs.events('connect.accepted').length
    const { code, summary } = await simulate(certmq, fleetDir, [
      '--fleet', 'storm', '--devices', '20', '--register', 'devices', '--no-monitor',
      // the storm comes once every device is connected, even on a slow or busy machine
      '--rate', '100', '--duration', '8', '--storm', '4'
    ])
    expect(code).toBe(0)
    // nothing received or lost is known without the monitor
    expect(summary.messages.received).toBeNull()
    expect(summary.messages.lost).toBeNull()
    expect(summary.connect.dropped).toBe(20)
    expect(summary.connect.accepted).toBe(40)
    // TLS 1.3 tickets from the first connect are offered and taken on the way back
    expect(summary.connect.tlsResumed).toBe(20)
    // the broker decided every reconnect with the certificate of the resumed session
    const decided = certmq.logs.events('connect.accepted').slice(before)
    expect(decided).toHaveLength(40)
    const fingerprints = new Map<string, number>()
    for (const line of decided) fingerprints.set(String(line['fingerprint']), (fingerprints.get(String(line['fingerprint'])) ?? 0) + 1)
    expect(fingerprints.size).toBe(20)
    expect([...fingerprints.values()].every((n) => n === 2)).toBe(true)
  })

  it('brings every dropped session back in a storm with --retries 0: that limit is for refused and failed attempts', async () => {
    const { code, summary, stderr } = await simulate(certmq, fleetDir, [
      '--fleet', 'storm', '--devices', '10', '--register', 'devices', '--no-monitor', '--rate', '100', '--duration', '5', '--storm', '2.5', '--retries', '0'
    ])
    expect(code, stderr).toBe(0)
    expect(summary.connect).toMatchObject({ dropped: 10, accepted: 20, reconnects: 10, devicesConnected: 10 })
  })

  it('refuses bad options with a usage error naming them (exit 2)', async () => {
    const run = async (args: string[]): Promise<{ code: number, stderr: string }> => {
      let stderr = ''
      const code = await runCli(['simulate', ...args], {
        env: {},
        stdout: { write: () => true },
        stderr: { write: (text: string) => { stderr += text; return true } }
      })
      return { code, stderr }
    }
    const cases: Array<[string[], string]> = [
      [['--devices', '0'], "option '--devices <n>' argument '0' is invalid. must be a whole number above 0"],
      [['--broker', 'http://localhost:1883', '--fleet-dir', fleetDir, '--devices', '1'], 'error VALIDATION_FAILED: --broker must be an mqtts:// URL, found http:'],
      [['--qos', '3'], "option '--qos <n>' argument '3' is invalid. Allowed choices are 0, 1, 2."],
      [['--commands', '--no-monitor', '--fleet-dir', fleetDir, '--devices', '1'], 'error VALIDATION_FAILED: --commands needs the monitor'],
      // Node's timers fire at once past 2^31 - 1 ms: such a run would end (or storm, or publish) at once
      [['--duration', '3000000'], "option '--duration <seconds>' argument '3000000' is invalid. must be a number above 0, at most 2147483"],
      [['--storm', '1e10'], "option '--storm <seconds>' argument '1e10' is invalid. must be a number above 0, at most 2147483"],
      [['--publish-rate', '1e-9'], "option '--publish-rate <n>' argument '1e-9' is invalid. must be 0, or a number of at least 0.000001"],
      [['--rate', '1e-9'], "option '--rate <n>' argument '1e-9' is invalid. must be a number of at least 0.000001"],
      [['--connect-timeout', '1e10'], "option '--connect-timeout <ms>' argument '1e10' is invalid. must be a whole number above 0, at most 2147483647"],
      // a storm after the end of the run would never come
      [['--storm', '10', '--duration', '10', '--fleet-dir', fleetDir, '--devices', '1'], 'error VALIDATION_FAILED: --storm 10 comes when the run has ended (--duration 10)']
    ]
    for (const [args, message] of cases) {
      const refused = await run(args)
      expect(refused.code, args.join(' ')).toBe(2)
      expect(refused.stderr).toContain(message)
    }
  })

  it('sends telemetry at the QoS and payload size asked for, and its monitor counts only this run\'s messages', async () => {
    // an observer of the telemetry topics, and another fleet publishing to the same topics meanwhile
    const other = await loadOrCreateFleet({ dir: fleetDir, fleet: 'other', organization: 'certmq simulator', count: 1, keyAlgorithm: 'EC-P256' })
    expect((await certmq.api('POST', '/api/v1/cas', { certificatePem: other.ca.certificatePem, registrationMode: 'auto' })).status).toBe(201)
    const tls = { protocol: 'mqtts' as const, host: 'localhost', port: certmq.mqttsPort, ca: certmq.serverCaPem, cert: other.devices[0]!.certificatePem, key: other.devices[0]!.privateKeyPem }
    const foreign = await connectAsync({ ...tls, clientId: 'foreign-publisher' })
    const seen: Array<{ qos: number, bytes: number, topic: string }> = []
    const observer = await connectAsync({ ...tls, clientId: 'telemetry-observer' })
    observer.on('message', (topic, payload, packet) => { seen.push({ topic, qos: packet.qos, bytes: payload.length }) })
    await observer.subscribeAsync('fleet/+/telemetry', { qos: 2 })
    const noise = setInterval(() => { foreign.publish('fleet/not-ours/telemetry', `${performance.now()}:0:`, { qos: 1 } satisfies IClientPublishOptions) }, 50)
    try {
      const { code, summary, stderr } = await simulate(certmq, fleetDir, [
        '--fleet', 'qos2', '--devices', '3', '--register', 'ca-auto',
        '--rate', '50', '--duration', '3', '--publish-rate', '4', '--qos', '2', '--payload', '100'
      ])
      expect(code, stderr).toBe(0)
      expect(summary.connect.devicesConnected).toBe(3)
      expect(summary.messages.sent).toBeGreaterThan(10)
      // the other fleet's messages reached the monitor's subscription too, and were not counted
      expect(summary.messages.received).toBe(summary.messages.sent)
      expect(summary.messages.lost).toBe(0)
    } finally {
      clearInterval(noise)
    }
    const ours = seen.filter((m) => m.topic !== 'fleet/not-ours/telemetry')
    expect(seen.length).toBeGreaterThan(ours.length)
    expect(ours.length).toBeGreaterThan(10)
    expect(new Set(ours.map((m) => m.qos))).toEqual(new Set([2]))
    expect(new Set(ours.map((m) => m.bytes))).toEqual(new Set([100]))
    await foreign.endAsync()
    await observer.endAsync()
  })

  it('publishes at the rate asked for, also above one message per millisecond per device', async () => {
    const { code, summary, stderr } = await simulate(certmq, fleetDir, [
      '--fleet', 'chatty', '--devices', '2', '--register', 'ca-auto', '--no-monitor', '--rate', '100', '--duration', '2', '--publish-rate', '2000'
    ])
    expect(code, stderr).toBe(0)
    expect(summary.connect.devicesConnected).toBe(2)
    // 2 devices × 2000/s over the 2 s less their connects (tens of ms): a timer per message
    // (setInterval of 0.5 ms, which Node makes 1 ms and more) sent fewer than half of them
    expect(summary.messages.sent).toBeGreaterThan(0.85 * 2 * 2000 * 2)
    expect(summary.messages.sent).toBeLessThanOrEqual(2 * 2000 * 2)

    // and at a low rate the first message of each device comes one period after its connect
    const slow = await simulate(certmq, fleetDir, ['--fleet', 'chatty', '--devices', '2', '--no-monitor', '--rate', '100', '--duration', '1.6', '--publish-rate', '1'])
    expect(slow.code, slow.stderr).toBe(0)
    expect(slow.summary.messages.sent).toBe(2)
  })

  it('keeps the monitor out of the devices when a later run has more of them: under a manual CA the extra devices are refused', async () => {
    const small = await simulate(certmq, fleetDir, ['--fleet', 'growing', '--devices', '2', '--register', 'devices', '--rate', '50', '--duration', '1.5'])
    expect(small.code, small.stderr).toBe(0)
    expect(small.summary.connect.accepted).toBe(2)
    // 4 devices now: SN000003 and SN000004 were never registered, whatever the monitor was
    const large = await simulate(certmq, fleetDir, ['--fleet', 'growing', '--devices', '4', '--register', 'ca-manual', '--rate', '50', '--duration', '1.5', '--retries', '0'])
    expect(large.code, large.stderr).toBe(0)
    expect(large.summary.connect).toMatchObject({ accepted: 2, rejectedByCode: { 5: 2 }, devicesConnected: 2, devicesNeverConnected: 2 })
  })

  it('refuses to rehearse one registration mode with a fleet CA registered in the other', async () => {
    const first = await simulate(certmq, fleetDir, ['--fleet', 'modes', '--devices', '2', '--register', 'ca-auto', '--rate', '50', '--duration', '1'])
    expect(first.code, first.stderr).toBe(0)
    let stderr = ''
    const code = await runCli(['simulate', '--broker', `mqtts://localhost:${certmq.mqttsPort}`, '--fleet-dir', fleetDir,
      '--fleet', 'modes', '--devices', '2', '--register', 'ca-manual'], {
      env: { CERTMQ_ADMIN_URL: certmq.adminUrl, CERTMQ_ADMIN_TOKEN: certmq.token },
      stdout: { write: () => true },
      stderr: { write: (text: string) => { stderr += text; return true } }
    })
    expect(code).toBe(2)
    expect(stderr).toContain('error VALIDATION_FAILED: --register ca-manual: the fleet CA of "modes" is already registered in auto mode')
  })

  it('stops with MONITOR_REFUSED (exit 4) when the broker refuses the monitor, rather than measure nothing', async () => {
    let stderr = ''
    const code = await runCli(['simulate', '--broker', `mqtts://localhost:${certmq.mqttsPort}`, '--server-ca', join(certmq.dataDir, 'ca', 'builtin-ca.pem'),
      '--fleet-dir', fleetDir, '--fleet', 'unregistered', '--devices', '1', '--duration', '1'], {
      env: {},
      stdout: { write: () => true },
      stderr: { write: (text: string) => { stderr += text; return true } }
    })
    expect(stderr).toContain('error MONITOR_REFUSED: the monitor client (unregistered-monitor) could not connect: CONNACK 5')
    expect(code).toBe(4)
  })

  it('times the fleet\'s run, not the monitor\'s connect before it nor the wait for its last messages after it', async () => {
    const { code, summary, stderr } = await simulate(certmq, fleetDir, [
      '--fleet', 'timed', '--devices', '5', '--register', 'devices', '--rate', '100', '--duration', '2', '--publish-rate', '2', '--qos', '1'
    ])
    expect(code, stderr).toBe(0)
    expect(summary.connect.devicesConnected).toBe(5)
    // the monitor's TLS connect and subscription come first, and 0.5 s for the last telemetry to arrive after the end
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(2)
    expect(summary.durationSeconds).toBeLessThan(2.3)
  })

  it('reconnects the monitor when its session is dropped, rather than count every later message lost', async () => {
    const fleet = await loadOrCreateFleet({ dir: fleetDir, fleet: 'watched', organization: 'certmq simulator', count: 5, keyAlgorithm: 'EC-P256' })
    const monitor = await loadOrCreateMonitor(fleet, 'certmq simulator')
    expect((await certmq.api('POST', '/api/v1/cas', { certificatePem: fleet.ca.certificatePem, registrationMode: 'auto' })).status).toBe(201)
    // 1.5 s in, a client with the monitor's certificate and client ID takes its session over (as a
    // broker restart would drop it), and leaves
    const takeover = setTimeout(() => {
      void connectAsync({ protocol: 'mqtts', host: 'localhost', port: certmq.mqttsPort, ca: certmq.serverCaPem, cert: monitor.certificatePem, key: monitor.privateKeyPem, clientId: monitor.commonName, reconnectPeriod: 0 })
        .then(async (client) => { await client.endAsync() })
    }, 1500)
    const summary = await runSimulation({
      fleet,
      devices: fleet.devices,
      monitor,
      broker: { host: 'localhost', port: certmq.mqttsPort, servername: 'localhost', serverCaPem: certmq.serverCaPem, insecure: false, connectTimeoutMs: 10_000, keepaliveSeconds: 60 },
      rate: 100, concurrency: 5, durationSeconds: 5, publishRate: 10, qos: 1, payloadBytes: 64, subscribeCommands: false,
      backoff: DEFAULT_BACKOFF, maxRetries: Number.POSITIVE_INFINITY
    })
    clearTimeout(takeover)
    expect(summary.connect.devicesConnected).toBe(5)
    expect(summary.messages.sent).toBeGreaterThan(150)
    // lost: what was sent while the monitor was away (its reconnect's backoff), not the rest of the run
    expect(summary.messages.lost!, JSON.stringify(summary.messages)).toBeLessThan(summary.messages.sent * 0.3)
    expect(summary.messages.monitorReconnects).toBe(1)
  })

  it('ends on time against a broker that accepts the devices and then stops answering: their connections are dropped, not waited for', async () => {
    // CONNACK 0 to every CONNECT and a SUBACK to the monitor, then silence: no PUBACK, and a DISCONNECT does not close the connection
    const server = createTlsServer({
      key: await readFile(join(certmq.dataDir, 'tls', 'server.key')),
      cert: await readFile(join(certmq.dataDir, 'tls', 'server.pem')),
      allowHalfOpen: true
    }, (socket) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))
        if (packet.cmd === 'subscribe') socket.write(mqttPacket.generate({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((sub) => sub.qos) }))
      })
      socket.on('data', (chunk: Buffer) => { parser.parse(chunk) })
      socket.on('end', () => { /* half-open: the broker never closes its side */ })
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as AddressInfo).port
    try {
      const fleet = await loadOrCreateFleet({ dir: fleetDir, fleet: 'stalled', organization: 'certmq simulator', count: 3, keyAlgorithm: 'EC-P256' })
      const started = performance.now()
      const run = runSimulation({
        fleet,
        devices: fleet.devices,
        monitor: fleet.devices[2]!,
        broker: { host: '127.0.0.1', port, servername: undefined, serverCaPem: undefined, insecure: true, connectTimeoutMs: 10_000, keepaliveSeconds: 60 },
        rate: 100, concurrency: 5, durationSeconds: 1, publishRate: 5, qos: 1, payloadBytes: 64, subscribeCommands: false,
        backoff: DEFAULT_BACKOFF, maxRetries: Number.POSITIVE_INFINITY
      })
      const summary = await Promise.race([run, new Promise<undefined>((resolve) => { setTimeout(() => { resolve(undefined) }, 15_000) })])
      expect(summary, 'the run did not end within 15 s').toBeDefined()
      // 1 s, the monitor's 0.5 s, and at most 2 s for the devices' DISCONNECTs and 2 s for the monitor's
      expect((performance.now() - started) / 1000).toBeLessThan(7)
      expect(summary!.connect.accepted).toBe(3)
      expect(summary!.messages.sent).toBeGreaterThan(0)
      expect(summary!.messages.received).toBe(0)
    } finally {
      server.close()
    }
  })

  it('stops with MONITOR_REFUSED when the broker accepts the monitor but never acknowledges its subscription', async () => {
    // CONNACK 0 to every CONNECT, and nothing else
    const server = createTlsServer({
      key: await readFile(join(certmq.dataDir, 'tls', 'server.key')),
      cert: await readFile(join(certmq.dataDir, 'tls', 'server.pem'))
    }, (socket) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))
      })
      socket.on('data', (chunk: Buffer) => { parser.parse(chunk) })
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as AddressInfo).port
    try {
      const fleet = await loadOrCreateFleet({ dir: fleetDir, fleet: 'stalled', organization: 'certmq simulator', count: 3, keyAlgorithm: 'EC-P256' })
      const run = runSimulation({
        fleet,
        devices: fleet.devices.slice(0, 2),
        monitor: fleet.devices[2]!,
        broker: { host: '127.0.0.1', port, servername: undefined, serverCaPem: undefined, insecure: true, connectTimeoutMs: 500, keepaliveSeconds: 60 },
        rate: 100, concurrency: 5, durationSeconds: 1, publishRate: 0, qos: 1, payloadBytes: 64, subscribeCommands: false,
        backoff: DEFAULT_BACKOFF, maxRetries: Number.POSITIVE_INFINITY
      })
      const outcome = await within(run.then((): unknown => 'ran', (err: unknown) => err), 5000, 'still waiting')
      expect(outcome).toMatchObject({ code: 'MONITOR_REFUSED', message: expect.stringContaining('no SUBACK within 500 ms') })
    } finally {
      server.close()
    }
  })

  it('ends on time against a broker that never answers: attempts waiting at the end are counted as abandoned, the rest as timeouts', async () => {
    // a TLS server that completes handshakes and then says nothing (it reads, so it sees the devices leave)
    const server = createTlsServer({
      key: await readFile(join(certmq.dataDir, 'tls', 'server.key')),
      cert: await readFile(join(certmq.dataDir, 'tls', 'server.pem'))
    }, (socket) => { socket.resume() })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as AddressInfo).port
    try {
      const silent = ['--broker', `mqtts://127.0.0.1:${port}`, '--insecure']
      // the default CONNACK timeout (10 s) is far beyond the run: it ends after its 1.5 s all the
      // same; 12 attempts in flight at once, more than Node's 10 listeners before it warns
      const warnings: Error[] = []
      const onWarning = (warning: Error): void => { warnings.push(warning) }
      process.on('warning', onWarning)
      const abandoned = await simulate(certmq, fleetDir, ['--fleet', 'silent', '--devices', '12', '--no-monitor', '--rate', '100', '--duration', '1.5'], silent)
      process.off('warning', onWarning)
      expect(abandoned.code, abandoned.stderr).toBe(0)
      expect(abandoned.summary.durationSeconds).toBeLessThan(5)
      expect(abandoned.summary.connect).toMatchObject({ attempts: 12, accepted: 0, aborted: 12, devicesConnected: 0, devicesNeverConnected: 12 })
      expect(warnings.map((w) => w.name)).toEqual([])
      // an IP address is not sent as a TLS server name: Node would warn on stderr (DEP0123)
      expect(abandoned.stderr).toBe('')

      const timedOut = await simulate(certmq, fleetDir, [
        '--fleet', 'silent', '--devices', '2', '--no-monitor', '--rate', '100', '--duration', '2', '--connect-timeout', '300', '--retries', '0'
      ], silent)
      expect(timedOut.code, timedOut.stderr).toBe(0)
      expect(timedOut.summary.connect.failures).toEqual({ tls: 0, timeout: 2, closed: 0, error: 0 })
      expect(timedOut.summary.connect.attempts).toBe(2)

      // Ctrl-C (the CLI aborts this signal): a 30 s run ends at once, and says it was interrupted
      const fleet = await loadOrCreateFleet({ dir: fleetDir, fleet: 'silent', organization: 'certmq simulator', count: 2, keyAlgorithm: 'EC-P256' })
      const interrupt = new AbortController()
      setTimeout(() => { interrupt.abort() }, 300)
      const cut = await runSimulation({
        fleet,
        devices: fleet.devices,
        broker: { host: '127.0.0.1', port, servername: undefined, serverCaPem: undefined, insecure: true, connectTimeoutMs: 10_000, keepaliveSeconds: 60 },
        rate: 100, concurrency: 5, durationSeconds: 30, publishRate: 0, qos: 0, payloadBytes: 64, subscribeCommands: false,
        backoff: DEFAULT_BACKOFF, maxRetries: Number.POSITIVE_INFINITY, signal: interrupt.signal
      })
      expect(cut.interrupted).toBe(true)
      expect(cut.durationSeconds).toBeLessThan(5)
      expect(cut.connect).toMatchObject({ attempts: 2, aborted: 2 })
    } finally {
      await new Promise((resolve) => { server.close(resolve) })
    }
  })
})
