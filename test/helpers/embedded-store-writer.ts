/**
 * Child process for the embedded store's crash test (test/integration/embedded-store.test.ts).
 *
 *   node --import tsx embedded-store-writer.ts <store dir> <seed.json> <count>
 *
 * seed.json holds `{ ca, template }`: a CaRecord and a CertificateRecord. The writer opens the
 * store, inserts the CA, then inserts `count` certificates derived from the template one after
 * another, printing `ack <id>` on stdout as soon as each insert resolves. The test kills it with
 * SIGKILL part-way and checks that every acknowledged id is stored. stdout to a pipe is
 * synchronous on Linux, so a printed line means the insert had resolved before the kill.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { CertificateRecord } from '../../src/domain/certificate.js'
import type { CaRecord } from '../../src/domain/ca.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'

const [storePath, seedPath, countText] = process.argv.slice(2)
if (storePath === undefined || seedPath === undefined || countText === undefined) {
  process.stderr.write('usage: embedded-store-writer.ts <store dir> <seed.json> <count>\n')
  process.exit(2)
}

const seed = JSON.parse(await readFile(seedPath, 'utf8')) as { ca: CaRecord; template: CertificateRecord }
const store = new EmbeddedRegistryStore({ path: storePath })
await store.open()
await store.insertCa(seed.ca, 10)
process.stdout.write('ready\n')

for (let i = 0; i < Number(countText); i++) {
  const id = createHash('sha256').update(`${seed.template.id}:${i}`).digest('hex')
  await store.insertCertificate({
    ...seed.template,
    id,
    fingerprint: id,
    serialNumber: id.slice(0, 16).toUpperCase().replace(/^0+(?=.)/, ''),
    commonName: `device-${i}`,
    clientId: `device-${i}`
  })
  process.stdout.write(`ack ${id}\n`)
}
await store.close()
process.stdout.write('done\n')
