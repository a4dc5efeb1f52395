/**
 * What a start reports about a data directory written by an earlier certmq: a CA registered
 * before certmq refused paths through CAs with name constraints keeps its record, and the start
 * says that every new device under it will be refused, and why.
 */
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { inspectCertificate } from '../../src/pki/inspect.js'
import { parseCertificatePem } from '../../src/pki/pem.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { makeCa } from '../contract/registry-store-records.js'
import { startCertmq } from '../helpers/certmq.js'
import { OpenSslPki } from '../helpers/openssl.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-old-data-')
let pki: OpenSslPki | undefined
afterAll(async () => {
  await pki?.cleanup()
})

describe('a start on an older data directory', () => {
  it('reports a registered CA that certmq now refuses paths through (ca.unsupported)', async () => {
    pki = await OpenSslPki.create()
    const constrained = await pki.ca('old-named-root', { extensions: ['nameConstraints = critical, permitted;DNS:fleet.example'] })
    const dataDir = tempDir()
    // written straight to the store, as the registration of an earlier certmq left it
    const store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
    await store.open()
    const { der, pem } = parseCertificatePem(constrained.pem, 'test CA')
    const facts = inspectCertificate(der)
    await store.insertCa(makeCa({
      id: facts.fingerprint, fingerprint: facts.fingerprint, subject: facts.subject, commonName: facts.commonName,
      serialNumber: facts.serialNumber, notBefore: facts.notBefore, notAfter: facts.notAfter, certificatePem: pem, registrationMode: 'auto'
    }), 50)
    await store.close()

    const certmq = await startCertmq({}, { dataDir })
    try {
      expect(certmq.logs.events('ca.unsupported')).toEqual([expect.objectContaining({
        caId: facts.fingerprint, reason: expect.stringContaining('name constraints')
      })])
    } finally {
      await certmq.stop()
    }
  })
})
