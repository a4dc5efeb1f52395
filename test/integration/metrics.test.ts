/**
 * GET /metrics against a whole broker: real MQTTS connects with mqtt.js and openssl-made
 * certificates move the counters, gauges and histograms (issue 4, item 5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenSslPki, type OpenSslCa, type OpenSslLeaf } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient, type DeviceCredentials } from '../helpers/mqtt.js'
import { waitFor } from '../helpers/wait-for.js'
import { parseExposition } from '../helpers/prometheus.js'

interface Registered { id: string }

let pki: OpenSslPki
let certmq: TestCertmq
let fleet: OpenSslCa
let fleetId: string
let leafCount = 0

/** Every sample of the exposition as `name{labels}` → value (labels as the server prints them). */
async function scrape (): Promise<Map<string, number>> {
  const res = await fetch(`${certmq.adminUrl}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(await res.text())
}

async function value (sample: string): Promise<number> {
  const found = (await scrape()).get(sample)
  if (found === undefined) throw new Error(`no sample ${sample} in /metrics`)
  return found
}

async function newLeaf (ca: OpenSslCa, days?: number): Promise<OpenSslLeaf> {
  leafCount++
  return await pki.leaf(`m-${leafCount}`, ca, { cn: `metrics-dev-${leafCount}`, ...(days === undefined ? {} : { days }) })
}

async function register (leaf: OpenSslLeaf): Promise<Registered> {
  const res = await certmq.api<Registered>('POST', '/api/v1/certificates', { caId: fleetId, certificatePem: leaf.pem })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

async function connectOnce (device: DeviceCredentials): Promise<number> {
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, device)
  await endClient(client)
  return code
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  fleet = await pki.ca('metrics-fleet')
  certmq = await startCertmq({ CERTMQ_AUTO_REGISTRATION_RATE: '1' })
  const res = await certmq.api<Registered>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual' })
  expect(res.status).toBe(201)
  fleetId = res.body.id
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

describe('GET /metrics', () => {
  it('is open without a token by default and carries the process metrics with the certmq_ prefix', async () => {
    const samples = await scrape()
    expect(samples.has('certmq_process_cpu_user_seconds_total')).toBe(true)
    expect(samples.get('certmq_auto_registration_limit_per_second')).toBe(1)
    // every reject reason is exported before the first refusal
    expect(samples.get('certmq_connections_rejected_total{reason="revoked"}')).toBe(0)
  })

  it('counts accepted connections, holds the current-connections gauge while a device is connected, and times the decision', async () => {
    const leaf = await newLeaf(fleet)
    await register(leaf)
    const before = await scrape()
    const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: leaf.pem, keyPem: leaf.keyPem })
    expect(code).toBe(0)
    try {
      const during = await scrape()
      expect(during.get('certmq_connections_accepted_total')).toBe((before.get('certmq_connections_accepted_total') ?? 0) + 1)
      expect(during.get('certmq_connect_decision_seconds_count')).toBe((before.get('certmq_connect_decision_seconds_count') ?? 0) + 1)
      expect(during.get('certmq_connections_current')).toBe(1)
      // a known certificate is read synchronously (getCertificateNow, untimed): not by the timed async read
      expect(during.get('certmq_store_operation_seconds_count{operation="getCertificate"}')).toBe(
        before.get('certmq_store_operation_seconds_count{operation="getCertificate"}'))
    } finally {
      await endClient(client)
    }
    await waitFor(async () => (await value('certmq_connections_current')) === 0, { what: 'certmq_connections_current back to 0' })
  })

  it('counts rejected connections by reason', async () => {
    const before = await scrape()
    expect(await connectOnce({})).toBe(5)
    const stranger = await newLeaf(fleet)
    expect(await connectOnce({ certPem: stranger.pem, keyPem: stranger.keyPem })).toBe(5)
    expect(await connectOnce({ certPem: stranger.pem, keyPem: stranger.keyPem })).toBe(5)
    const after = await scrape()
    const moved = (sample: string): number => (after.get(sample) ?? 0) - (before.get(sample) ?? 0)
    expect(moved('certmq_connections_rejected_total{reason="no_certificate"}')).toBe(1)
    expect(moved('certmq_connections_rejected_total{reason="unregistered"}')).toBe(2)
    expect(moved('certmq_connections_accepted_total')).toBe(0)
    expect(moved('certmq_connect_decision_seconds_count')).toBe(3)
  })

  it('counts automatic registrations and the attempts the rate limiter refused in a burst of 3 at 1 per second', async () => {
    const autoCa = await pki.ca('metrics-auto')
    const res = await certmq.api('POST', '/api/v1/cas', { certificatePem: autoCa.pem, registrationMode: 'auto', autoActivate: true })
    expect(res.status).toBe(201)
    const devices = await Promise.all([1, 2, 3].map(async () => await newLeaf(autoCa)))
    const before = await scrape()
    const started = performance.now()
    const codes = await Promise.all(devices.map(async (d) => await connectOnce({ certPem: d.pem, keyPem: d.keyPem })))
    const burstMs = performance.now() - started
    const after = await scrape()
    const moved = (sample: string): number => (after.get(sample) ?? 0) - (before.get(sample) ?? 0)
    const admitted = codes.filter((c) => c === 0).length
    const limited = codes.filter((c) => c === 3).length
    expect(admitted + limited).toBe(3)
    expect(moved('certmq_auto_registrations_total')).toBe(admitted)
    expect(moved('certmq_auto_registrations_rate_limited_total')).toBe(limited)
    expect(moved('certmq_connections_rejected_total{reason="rate_limited"}')).toBe(limited)
    // one slot per sliding second: a burst that fits in a second gets exactly one through
    if (burstMs < 1000) expect(limited).toBe(2)
    expect(limited).toBeGreaterThan(0)
  })

  it('shows certificates by status after register and revoke', async () => {
    const before = await scrape()
    const cert = await register(await newLeaf(fleet))
    const registered = await scrape()
    expect(registered.get('certmq_certificates{status="active"}')).toBe((before.get('certmq_certificates{status="active"}') ?? 0) + 1)
    const res = await certmq.api('POST', `/api/v1/certificates/${cert.id}/revoke`, { confirm: true })
    expect(res.status).toBe(200)
    const revoked = await scrape()
    expect(revoked.get('certmq_certificates{status="active"}')).toBe(before.get('certmq_certificates{status="active"}'))
    expect(revoked.get('certmq_certificates{status="revoked"}')).toBe((before.get('certmq_certificates{status="revoked"}') ?? 0) + 1)
  })

  it('counts per CA the certificates expiring within 7 and 30 days (openssl -days 3)', async () => {
    const expiring = (samples: Map<string, number>, days: number): number =>
      samples.get(`certmq_certificates_expiring{ca_id="${fleetId}",within_days="${days}"}`) ?? 0
    const before = await scrape()
    await register(await newLeaf(fleet, 3))
    await register(await newLeaf(fleet, 20))
    const after = await scrape()
    expect(expiring(after, 7)).toBe(expiring(before, 7) + 1)
    expect(expiring(after, 30)).toBe(expiring(before, 30) + 2)
    // the other certificates of this suite are valid for a year
    expect(expiring(after, 7)).toBe(1)
  })
})

describe('GET /readyz', () => {
  it('answers 200 ready without a token while the listeners are up and the store answers', async () => {
    const res = await fetch(`${certmq.adminUrl}/readyz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ready', mqtts: true, admin: true, store: true })
  })
})
