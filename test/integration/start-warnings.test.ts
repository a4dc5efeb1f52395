/**
 * What a start reports about a data directory written by an earlier certmq: a CA registered
 * before certmq refused paths through CAs with name constraints keeps its record, and the start
 * says that every new device under it will be refused, and why; a registry whose built-in CA's
 * files are gone (a restore without `ca/`) is named, since devices that trust it cannot verify
 * the new server certificate.
 */
import { rm } from 'node:fs/promises'
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

  it('reports a built-in CA in the registry whose files are gone (ca.builtin_replaced), at the start that replaces it', async () => {
    const dataDir = tempDir()
    const first = await startCertmq({}, { dataDir })
    expect(first.logs.events('ca.builtin_replaced')).toEqual([])
    await first.stop({ keepData: true })
    // the registry is kept, the CA directory is not (as after a restore of the registry alone)
    await rm(join(dataDir, 'ca'), { recursive: true })

    const second = await startCertmq({}, { dataDir })
    let builtins: string[] = []
    try {
      const warned = second.logs.events('ca.builtin_replaced')
      expect(warned).toHaveLength(1)
      const cas = (await second.api<{ items: Array<{ id: string, builtin: boolean }> }>('GET', '/api/v1/cas')).body.items
      builtins = cas.filter((ca) => ca.builtin).map((ca) => ca.id)
      expect(builtins).toHaveLength(2)
      expect(warned[0]).toMatchObject({ current: expect.any(String), caId: expect.any(String) })
      expect(builtins.sort()).toEqual([warned[0]!['caId'], warned[0]!['current']].sort())
    } finally {
      await second.stop({ keepData: true })
    }
    // said once: the next start finds its files in place
    const third = await startCertmq({}, { dataDir })
    try {
      expect(third.logs.events('ca.builtin_replaced')).toEqual([])
    } finally {
      await third.stop()
    }
  })
})
