/**
 * PRODUCT §1.3: at most N automatic registrations in any sliding second, the excess answered
 * at once with CONNACK 3; devices that retry are all registered in the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCaCertificate, issueCertificate } from '../../src/pki/certificate-authority.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient, type DeviceCredentials } from '../helpers/mqtt.js'

const LIMIT = 15
const DEVICES = 100

let certmq: TestCertmq
let caId: string
const devices: DeviceCredentials[] = []

beforeAll(async () => {
  certmq = await startCertmq({ CERTMQ_AUTO_REGISTRATION_RATE: String(LIMIT) })
  // devices made by certmq's own CA code, the way the simulator makes a fleet
  const ca = await createCaCertificate({ commonName: 'Burst Fleet CA', validityDays: 30, keyAlgorithm: 'EC-P256' })
  const res = await certmq.api<{ id: string }>('POST', '/api/v1/cas', { certificatePem: ca.certificatePem, registrationMode: 'auto' })
  expect(res.status).toBe(201)
  caId = res.body.id
  for (let i = 0; i < DEVICES; i++) {
    const leaf = await issueCertificate({
      issuerCertificatePem: ca.certificatePem,
      issuerPrivateKeyPem: ca.privateKeyPem,
      subject: { commonName: `BURST${String(i).padStart(4, '0')}`, organizationalUnit: 'burst' },
      keyAlgorithm: 'EC-P256',
      validityDays: 30,
      purpose: 'client'
    })
    devices.push({ certPem: leaf.certificatePem, keyPem: leaf.privateKeyPem })
  }
})

afterAll(async () => {
  await certmq?.stop()
})

async function attempt (device: DeviceCredentials): Promise<number> {
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, device)
  await endClient(client)
  return code
}

describe('§1.3 automatic-registration rate limit', () => {
  it(`admits ${LIMIT} of a burst of ${DEVICES} new devices, answers the rest with CONNACK 3, and registers all on retry`, async () => {
    const started = performance.now()
    const first = await Promise.all(devices.map(attempt))
    const burstMs = performance.now() - started
    const admitted = first.filter((c) => c === 0).length
    expect(first.every((c) => c === 0 || c === 3)).toBe(true)
    expect(admitted).toBeGreaterThanOrEqual(LIMIT)
    // within one second of the first grant the limiter can grant exactly LIMIT
    if (burstMs < 1000) expect(admitted).toBe(LIMIT)
    expect(certmq.logs.events('connect.rejected').filter((l) => l.reason === 'rate_limited')).toHaveLength(DEVICES - admitted)

    let pending = devices.filter((_d, i) => first[i] !== 0)
    for (let round = 0; pending.length > 0 && round < 100; round++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      const codes = await Promise.all(pending.map(attempt))
      expect(codes.every((c) => c === 0 || c === 3)).toBe(true)
      pending = pending.filter((_d, i) => codes[i] !== 0)
    }
    expect(pending).toHaveLength(0)

    const { body } = await certmq.api<{ items: Array<{ createdAt: string; source: string }> }>('GET', `/api/v1/certificates?caId=${caId}&limit=500`)
    expect(body.items).toHaveLength(DEVICES)
    expect(body.items.every((c) => c.source === 'auto')).toBe(true)
    // never more than LIMIT registrations in any sliding second (createdAt is taken a moment
    // after the limiter's grant, so allow the windows a few milliseconds of that jitter)
    const times = body.items.map((c) => Date.parse(c.createdAt)).sort((a, b) => a - b)
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + 990).length
      expect(inWindow).toBeLessThanOrEqual(LIMIT)
    }
  })
})
