/**
 * `certmq simulate` against a certmq started here: the summary's counts must match what the
 * broker itself recorded (its connect decisions and registry), and a revoked device in the fleet
 * must end up refused with CONNACK 5 and counted as such.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import { loadOrCreateFleet } from '../../src/simulator/fleet.js'
import type { SimulationSummary } from '../../src/simulator/stats.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'

async function simulate (certmq: TestCertmq, fleetDir: string, args: string[]): Promise<{ code: number, summary: SimulationSummary, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const serverCa = join(certmq.dataDir, 'ca', 'builtin-ca.pem')
  const code = await runCli([
    '--json', 'simulate',
    '--broker', `mqtts://localhost:${certmq.mqttsPort}`,
    '--server-ca', serverCa,
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

    // the broker's side: one accepted decision per device plus the monitor, none refused
    const accepted = certmq.logs.events('connect.accepted').filter((l) => String(l['clientId']).startsWith('SN'))
    expect(accepted).toHaveLength(summary.connect.accepted + 1)
    expect(certmq.logs.events('connect.rejected')).toHaveLength(0)
    // and its registry: 50 devices and the monitor, registered manually, each with its client
    const list = await certmq.api<{ items: Array<{ id: string, source: string, commonName: string }> }>('GET', '/api/v1/certificates?status=active')
    const fleet = list.body.items.filter((c) => c.commonName.startsWith('SN'))
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
    const again = await loadOrCreateFleet({ dir: fleetDir, fleet: 'fifty', organization: 'certmq simulator', count: 51, keyAlgorithm: 'EC-P256' })
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
    const zero = await run(['--devices', '0'])
    expect(zero.code).toBe(2)
    expect(zero.stderr).toContain("option '--devices <n>' argument '0' is invalid. must be a whole number above 0")
    const scheme = await run(['--broker', 'http://localhost:1883', '--fleet-dir', fleetDir, '--devices', '1'])
    expect(scheme.code).toBe(2)
    expect(scheme.stderr).toContain('error VALIDATION_FAILED: --broker must be an mqtts:// URL, found http:')
  })
})
