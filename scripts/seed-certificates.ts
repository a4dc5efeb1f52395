/**
 * Seeds a certmq data directory with N device certificates (default 100 000) for scale tests:
 *
 *   npx tsx scripts/seed-certificates.ts --dir ./data-100k [--count 100000]
 *
 * What it writes, in <dir>/registry (the embedded store certmq serve opens):
 * - a fleet CA, registered through CaService like `certmq ca register` would; its certificate
 *   and key go to <dir>/seed-ca/ (key 0600), so devices can be made for it later;
 * - N real certificates SN000001…, each with its own key pair, serial and fingerprint, signed by
 *   the CA (simulator/template-issuer: one template per validity/OU bucket, then only serial, CN
 *   and key change). notAfter is spread from 60 days ago to 700 days ahead (some expired, some
 *   expiring within 30 days), OUs trucks/buses/vans/cars, statuses ~80 % active, 8 % inactive,
 *   6 % pending_activation, 6 % revoked (on the deny list too), sources manual/auto, half with a
 *   Client ID.
 *
 * Records are written straight into LMDB in large transactions (inserting them one by one through
 * the store would fsync 100 000 times); the facts of each record are those of its template with
 * the device's CN, serial and fingerprint, which is exactly what inspecting it would give. The
 * registry must hold no certificates yet. Device private keys are not kept.
 */
import 'reflect-metadata'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createCaCertificate, prepareIssuer } from '../src/pki/certificate-authority.js'
import { parseCertificatePem } from '../src/pki/pem.js'
import { inspectCertificate } from '../src/pki/inspect.js'
import type { CertificateFacts, CertificateRecord, CertSource, CertStatus } from '../src/domain/certificate.js'
import { CaService } from '../src/registry/ca-service.js'
import { EmbeddedRegistryStore } from '../src/store/embedded/embedded-registry-store.js'
import { openDatabases } from '../src/store/embedded/databases.js'
import { acquireProcessLock } from '../src/store/embedded/process-lock.js'
import { LocalStatusBus } from '../src/store/local-status-bus.js'
import { deviceCommonName, MAX_FLEET_SIZE } from '../src/simulator/fleet.js'
import { TemplateIssuer } from '../src/simulator/template-issuer.js'
import { DAY_MS } from '../src/domain/query.js'

const OUS = ['trucks', 'buses', 'vans', 'cars'] as const
const BUCKETS = 256
const VALIDITY_DAYS = 730
const FIRST_NOT_AFTER_DAYS = -60
const LAST_NOT_AFTER_DAYS = 700
const ISSUE_BATCH = 512
const WRITE_BATCH = 5000

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    count: { type: 'string', default: '100000' }
  }
})
const count = Number(values.count)
if (values.dir === undefined || !Number.isInteger(count) || count < 1 || count > MAX_FLEET_SIZE) {
  process.stderr.write(`usage: npx tsx scripts/seed-certificates.ts --dir <data dir> [--count 1..${MAX_FLEET_SIZE}, default 100000]\n`)
  process.exit(2)
}
const dataDir = resolve(values.dir)
const registryDir = join(dataDir, 'registry')
const started = performance.now()
const now = Date.now()

/** A stable pseudo-random number in [0, 1) for device i and a purpose (no Math.random: reruns give the same fleet shape). */
function unit (i: number, salt: number): number {
  let x = Math.imul(i ^ (salt * 0x9e3779b1), 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32
}

function statusOf (i: number): CertStatus {
  const r = unit(i, 1)
  return r < 0.80 ? 'active' : r < 0.88 ? 'inactive' : r < 0.94 ? 'pending_activation' : 'revoked'
}

function sourceOf (i: number): CertSource {
  return unit(i, 2) < 0.75 ? 'manual' : 'auto'
}

// ---- the CA, registered the regular way --------------------------------------------------------
await mkdir(dataDir, { recursive: true, mode: 0o700 })
const store = new EmbeddedRegistryStore({ path: registryDir })
await store.open()
const existing = await store.listCertificates({ limit: 1 })
if (existing.total > 0) {
  await store.close()
  process.stderr.write(`${registryDir} already holds ${existing.total} certificates; seed an empty data directory\n`)
  process.exit(1)
}
const ca = await createCaCertificate({ commonName: `certmq seed fleet CA ${new Date(now).toISOString()}`, validityDays: 3650, keyAlgorithm: 'EC-P256' })
const bus = new LocalStatusBus()
const caRecord = await new CaService({ store, bus, maxCas: 1000, now: () => new Date(now) })
  .register({ certificatePem: ca.certificatePem, registrationMode: 'manual', description: `seeded fleet of ${count}` })
await store.close()
await bus.close()
const caDir = join(dataDir, 'seed-ca')
await mkdir(caDir, { recursive: true, mode: 0o700 })
await writeFile(join(caDir, 'ca.pem'), ca.certificatePem)
await writeFile(join(caDir, 'ca.key'), ca.privateKeyPem, { mode: 0o600 })
await chmod(join(caDir, 'ca.key'), 0o600)

// ---- templates: one per (notAfter bucket, OU) ---------------------------------------------------
const issuer = await prepareIssuer(ca.certificatePem, ca.privateKeyPem)
interface Template { issuer: TemplateIssuer, facts: CertificateFacts, sampleCn: string }
const templates: Template[] = []
for (let b = 0; b < BUCKETS; b++) {
  const notAfterDays = FIRST_NOT_AFTER_DAYS + ((LAST_NOT_AFTER_DAYS - FIRST_NOT_AFTER_DAYS) * b) / (BUCKETS - 1)
  const notBefore = new Date(Math.floor((now + notAfterDays * DAY_MS - VALIDITY_DAYS * DAY_MS) / 1000) * 1000)
  const sampleCn = deviceCommonName(MAX_FLEET_SIZE - 1)
  const made = await TemplateIssuer.create(ca, issuer, { organizationalUnit: OUS[b % OUS.length] as string, organization: 'Seeded Fleet' },
    sampleCn, VALIDITY_DAYS, notBefore)
  if (made === undefined) throw new Error('the template issuer does not fit this CA; cannot seed quickly')
  const probe = await made.issue(sampleCn)
  templates.push({ issuer: made, facts: inspectCertificate(parseCertificatePem(probe.certificatePem, 'template').der), sampleCn })
}
process.stderr.write(`CA ${caRecord.id} registered, ${BUCKETS} templates ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)

// ---- devices ------------------------------------------------------------------------------------
// the store's lock again: a certmq started on this dir now would rebuild its indexes mid-seed
const { release: releaseLock } = acquireProcessLock(registryDir)
const dbs = openDatabases(registryDir)
const createdSpanMs = 365 * DAY_MS
let pending: CertificateRecord[] = []
let written = 0

function flush (): void {
  const batch = pending
  pending = []
  dbs.root.transactionSync(() => {
    for (const record of batch) {
      dbs.certs.putSync(record.id, record)
      if (record.status === 'revoked') dbs.denied.putSync(record.id, { revokedAt: record.updatedAt })
    }
  })
  written += batch.length
  process.stderr.write(`\r${written} / ${count} written`)
}

try {
  for (let start = 0; start < count; start += ISSUE_BATCH) {
    const indexes = Array.from({ length: Math.min(ISSUE_BATCH, count - start) }, (_, k) => start + k)
    const issued = await Promise.all(indexes.map(async (i) => {
      const template = templates[Math.floor(unit(i, 3) * BUCKETS)] as Template
      const commonName = deviceCommonName(i)
      return { i, template, commonName, cert: await template.issuer.issue(commonName) }
    }))
    for (const { i, template, commonName, cert } of issued) {
      const status = statusOf(i)
      const createdAt = new Date(now - createdSpanMs + Math.floor((createdSpanMs * i) / count)).toISOString()
      const updatedAt = status === 'active' ? createdAt : new Date(Date.parse(createdAt) + Math.floor(unit(i, 4) * DAY_MS)).toISOString()
      pending.push({
        ...template.facts,
        fingerprint: cert.fingerprint,
        serialNumber: cert.serialNumber,
        subject: template.facts.subject.replace(template.sampleCn, commonName),
        commonName,
        id: cert.fingerprint,
        status,
        source: sourceOf(i),
        caId: caRecord.id,
        clientId: unit(i, 5) < 0.5 ? `veh-${commonName}` : null,
        certificatePem: cert.certificatePem,
        createdAt,
        updatedAt
      })
    }
    if (pending.length >= WRITE_BATCH) flush()
  }
  if (pending.length > 0) flush()
} finally {
  await dbs.root.close()
  releaseLock()
}
process.stderr.write(`\nseeded ${written} certificates into ${registryDir} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
