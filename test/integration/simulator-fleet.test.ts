/**
 * The simulator's fleet generator, checked with the openssl CLI: fast-path (template) EC
 * certificates and slow-path RSA ones verify against the fleet CA, carry the right subject,
 * usages and key identifiers, unique serials and keys; an existing openssl-made CA can issue
 * the fleet; the cache is reused and extended.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateFleet, type Fleet } from '../../src/simulator/fleet.js'
import { fingerprintOfPem } from '../../src/pki/inspect.js'
import { prepareIssuer } from '../../src/pki/certificate-authority.js'
import { TemplateIssuer } from '../../src/simulator/template-issuer.js'
import { OpenSslPki } from '../helpers/openssl.js'

describe('simulated fleet', () => {
  let pki: OpenSslPki

  beforeAll(async () => { pki = await OpenSslPki.create() })
  afterAll(async () => { await rm(pki.dir, { recursive: true, force: true }) })

  async function opensslChecks (fleet: Fleet, caPath: string, index: number): Promise<string> {
    const file = pki.path(`${fleet.name}-${index}.pem`)
    await writeFile(file, fleet.devices[index]!.certificatePem)
    expect(await pki.openssl('verify', '-CAfile', caPath, '-purpose', 'sslclient', file)).toContain(': OK')
    return await pki.openssl('x509', '-in', file, '-noout', '-text', '-nameopt', 'RFC2253')
  }

  it('issues EC P-256 devices that openssl verifies, with distinct serials and keys', async () => {
    const fleet = await loadOrCreateFleet({ dir: pki.dir, fleet: 'ecfleet', organization: 'Acme Cars', count: 40, keyAlgorithm: 'EC-P256' })
    expect(fleet.generated).toBe(40)
    const caPath = join(fleet.dir, 'ca.pem')
    for (const index of [0, 17, 39]) {
      const text = await opensslChecks(fleet, caPath, index)
      expect(text).toContain(`Subject: CN=SN${String(index + 1).padStart(6, '0')},OU=ecfleet,O=Acme Cars`)
      expect(text).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Client Authentication/)
      expect(text).toMatch(/Key Usage: critical\s*\n\s*Digital Signature/)
      expect(text).toContain('CA:FALSE')
      // the subject key identifier is the device's own key's, not the template's
      const cert = new X509Certificate(fleet.devices[index]!.certificatePem)
      expect(cert.checkPrivateKey(createPrivateKey(fleet.devices[index]!.privateKeyPem))).toBe(true)
    }
    const serials = new Set(fleet.devices.map((d) => new X509Certificate(d.certificatePem).serialNumber))
    const fingerprints = new Set(fleet.devices.map((d) => d.fingerprint))
    const keys = new Set(fleet.devices.map((d) => d.privateKeyPem))
    expect([serials.size, fingerprints.size, keys.size]).toEqual([40, 40, 40])
    expect(fleet.devices[5]!.fingerprint).toBe(new X509Certificate(fleet.devices[5]!.certificatePem).fingerprint256.replace(/:/g, '').toLowerCase())
    // keys and the fleet CA key are private to their owner
    expect((await stat(join(fleet.dir, 'devices.json'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(fleet.dir, 'ca.key'))).mode & 0o777).toBe(0o600)
  })

  it('reuses the cache, extends it, and starts over when the organization changes', async () => {
    const again = await loadOrCreateFleet({ dir: pki.dir, fleet: 'ecfleet', organization: 'Acme Cars', count: 45, keyAlgorithm: 'EC-P256' })
    expect(again.generated).toBe(5)
    const first = await loadOrCreateFleet({ dir: pki.dir, fleet: 'ecfleet', organization: 'Acme Cars', count: 45, keyAlgorithm: 'EC-P256' })
    expect(first.generated).toBe(0)
    expect(first.devices[44]!.certificatePem).toBe(again.devices[44]!.certificatePem)
    const renamed = await loadOrCreateFleet({ dir: pki.dir, fleet: 'ecfleet', organization: 'Other Org', count: 3, keyAlgorithm: 'EC-P256' })
    expect(renamed.generated).toBe(3)
    expect(new X509Certificate(renamed.devices[0]!.certificatePem).subject).toContain('O=Other Org')
  })

  it('issues RSA 2048 devices from an existing openssl-made CA', async () => {
    const ca = await pki.ca('existing-rsa-ca', { key: 'rsa2048' })
    const fleet = await loadOrCreateFleet({
      dir: pki.dir, fleet: 'rsafleet', organization: 'Acme', count: 3, keyAlgorithm: 'RSA-2048',
      ca: { certificatePem: ca.pem, privateKeyPem: ca.keyPem }
    })
    expect(fleet.ca.certificatePem).toBe(ca.pem)
    const text = await opensslChecks(fleet, ca.certPath, 2)
    expect(text).toContain('Public-Key: (2048 bit)')
  })

  it('makes one fleet CA when several runs make the same new fleet at once, and caches devices of that CA', async () => {
    const make = async (count: number): Promise<Fleet> => await loadOrCreateFleet({ dir: pki.dir, fleet: 'raced', organization: 'o', count, keyAlgorithm: 'EC-P256' })
    const fleets = await Promise.all([3, 3, 4, 4, 5, 5].map(make))
    expect(new Set(fleets.map((f) => f.ca.fingerprint)).size).toBe(1)
    const dir = fleets[0]!.dir
    const [certificatePem, keyPem] = await Promise.all([readFile(join(dir, 'ca.pem'), 'utf8'), readFile(join(dir, 'ca.key'), 'utf8')])
    // the pair on disk is that CA's certificate and its own key
    expect(fingerprintOfPem(certificatePem)).toBe(fleets[0]!.ca.fingerprint)
    expect(new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem))).toBe(true)
    for (const fleet of fleets) expect(new X509Certificate(fleet.devices[0]!.certificatePem).verify(new X509Certificate(certificatePem).publicKey)).toBe(true)
    // no temporary files left behind, and the next run reuses the cache and extends it with the same CA
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
    const next = await make(6)
    expect(next.ca.fingerprint).toBe(fleets[0]!.ca.fingerprint)
    expect(next.generated).toBeLessThanOrEqual(3)
    expect(new X509Certificate(next.devices[5]!.certificatePem).verify(new X509Certificate(certificatePem).publicKey)).toBe(true)
  })

  it('makes the devices again when the cached devices.json cannot be read (cut short, another format) rather than fail', async () => {
    const first = await loadOrCreateFleet({ dir: pki.dir, fleet: 'damaged', organization: 'o', count: 2, keyAlgorithm: 'EC-P256' })
    const file = join(first.dir, 'devices.json')
    for (const damaged of [(await readFile(file, 'utf8')).slice(0, 100), '{}', '[]', 'null']) {
      await writeFile(file, damaged)
      const again = await loadOrCreateFleet({ dir: pki.dir, fleet: 'damaged', organization: 'o', count: 2, keyAlgorithm: 'EC-P256' })
      expect(again.generated, damaged).toBe(2)
      expect(again.ca.fingerprint).toBe(first.ca.fingerprint)
    }
    expect((await loadOrCreateFleet({ dir: pki.dir, fleet: 'damaged', organization: 'o', count: 2, keyAlgorithm: 'EC-P256' })).generated).toBe(0)
  })

  it('issues EC devices the fast way from an existing P-384 or RSA CA too, signed with the hash the CA signs with', async () => {
    for (const key of ['ec384', 'rsa2048'] as const) {
      const ca = await pki.ca(`template-${key}-ca`, { key })
      const issuer = await prepareIssuer(ca.pem, ca.keyPem)
      const template = await TemplateIssuer.create({ certificatePem: ca.pem, privateKeyPem: ca.keyPem }, issuer, { organizationalUnit: 'f', organization: 'o' }, 'SN000001', 30)
      expect(template, key).toBeDefined()
      const issued = await template!.issue('SN000002')
      const file = pki.path(`template-${key}.pem`)
      await writeFile(file, issued.certificatePem)
      expect(await pki.openssl('verify', '-CAfile', ca.certPath, '-purpose', 'sslclient', file)).toContain(': OK')
    }
  })

  it('refuses a bad fleet name or size with a message naming it', async () => {
    await expect(loadOrCreateFleet({ dir: pki.dir, fleet: '../escape', organization: 'o', count: 1, keyAlgorithm: 'EC-P256' }))
      .rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('fleet name') })
    await expect(loadOrCreateFleet({ dir: pki.dir, fleet: 'ok', organization: 'o', count: 1_000_000, keyAlgorithm: 'EC-P256' }))
      .rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('999999') })
  })
})
