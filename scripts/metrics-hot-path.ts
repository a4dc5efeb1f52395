/**
 * Microbenchmark of what metrics add per CONNECT (the observer calls aedes-hooks.ts and
 * ConnectService make) and of the certificate counts behind a scrape at 100k certificates
 * (read from the store's search projection).
 * Run: node --expose-gc --import tsx scripts/metrics-hot-path.ts
 */
import { Registry } from 'prom-client'
import { ConnectMetrics } from '../src/metrics/connect-metrics.js'
import { RegistrationMetrics } from '../src/metrics/registration-metrics.js'
import { CERT_STATUSES } from '../src/domain/certificate.js'
import { CertificateProjection } from '../src/store/embedded/certificate-projection.js'
import { makeCa, makeCertificate } from '../test/contract/registry-store-records.js'
import { instrumentStore } from '../src/metrics/store-metrics.js'

const N = 100_000
const registry = new Registry()
const connect = new ConnectMetrics(registry)
const registration = new RegistrationMetrics(registry, 15)

function perCall (label: string, body: (i: number) => void): void {
  const started = performance.now()
  for (let i = 0; i < N; i++) body(i)
  console.log(`${label.padEnd(34)} ${((performance.now() - started) * 1000 / N).toFixed(3)} µs per connect`)
}

const sample = makeCertificate(makeCa())
for (let round = 1; round <= 3; round++) {
  console.log(`round ${round} (${N} iterations each)`)
  perCall('accepted', (i) => { connect.accepted(0.0003 + (i % 7) * 0.0001) })
  perCall('rejected (2 reasons alternating)', (i) => { connect.rejected({ reason: i % 2 === 0 ? 'unregistered' : 'revoked' }, 0.0003) })
  perCall('auto-registered + accepted', () => { registration.autoRegistered(sample); connect.accepted(0.002) })
}

// the store decorator on the one store call of a known certificate's CONNECT (getCertificate)
const plain = { async getCertificate (id: string): Promise<string | undefined> { return id === '' ? undefined : id } }
const timed = instrumentStore(plain, registry)
for (const [label, store] of [['getCertificate, plain', plain], ['getCertificate, instrumented', timed]] as const) {
  await store.getCertificate('warm-up')
  const started = performance.now()
  for (let i = 0; i < N; i++) await store.getCertificate('x')
  console.log(`${label.padEnd(34)} ${((performance.now() - started) * 1000 / N).toFixed(3)} µs per call`)
}

const now = Date.now()
const cas = Array.from({ length: 20 }, () => makeCa())
const records = Array.from({ length: 100_000 }, (_v, i) => makeCertificate(cas[i % 20]!, {
  status: CERT_STATUSES[i % CERT_STATUSES.length]!,
  notAfter: new Date(now + 60_000 + i * 5 * 60_000).toISOString()
}))
const projection = new CertificateProjection()
projection.rebuild(records)
const times: number[] = []
for (let i = 0; i < 50; i++) {
  const started = performance.now()
  projection.counts(now, [7, 30])
  times.push(performance.now() - started)
}
times.sort((a, b) => a - b)
console.log(`countCertificates at 100k certificates, 20 CAs: p50 ${times[25]!.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms`)
