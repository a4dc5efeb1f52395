import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublicKey, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertmqError } from '../../../src/errors.js'
import { isIssuedBy } from '../../../src/pki/chain.js'
import {
  createCaCertificate, issueCertificate, loadOrCreateBuiltinCa, loadOrCreateServerCertificate, type CertificateAndKey
} from '../../../src/pki/certificate-authority.js'
import { inspectCertificate } from '../../../src/pki/inspect.js'
import { OpenSslPki } from '../../helpers/openssl.js'

let pki: OpenSslPki
let ca: CertificateAndKey

beforeAll(async () => {
  pki = await OpenSslPki.create()
  ca = await createCaCertificate({ commonName: 'certmq test CA', organization: 'Acme', validityDays: 30, keyAlgorithm: 'EC-P256' })
})
afterAll(async () => { await pki.cleanup() })

const facts = (pem: string): ReturnType<typeof inspectCertificate> => inspectCertificate(new X509Certificate(pem).raw)

async function write (name: string, text: string): Promise<string> {
  const path = pki.path(name)
  await writeFile(path, text)
  return path
}

async function rejects (promise: Promise<unknown>, code: string): Promise<CertmqError> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(CertmqError)
  expect((err as CertmqError).code).toBe(code)
  return err as CertmqError
}

function samePublicKey (certificatePem: string, privateKeyPem: string): boolean {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' })
    .equals(new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' }))
}

describe('createCaCertificate', () => {
  it('makes a self-signed CA with critical CA:TRUE and keyCertSign + cRLSign, and its PKCS#8 key', async () => {
    expect(facts(ca.certificatePem)).toMatchObject({
      subject: 'O=Acme, CN=certmq test CA', issuer: 'O=Acme, CN=certmq test CA', keyType: 'EC P-256',
      isCa: true, keyUsage: ['keyCertSign', 'cRLSign'], extendedKeyUsage: null
    })
    const text = await pki.openssl('x509', '-in', await write('ca.pem', ca.certificatePem), '-noout', '-text')
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/)
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/)
    expect(text).toContain('Subject Key Identifier')
    expect(ca.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true)
    expect(samePublicKey(ca.certificatePem, ca.privateKeyPem)).toBe(true)
  })

  it('makes P-384 CAs', async () => {
    const p384 = await createCaCertificate({ commonName: 'P-384 CA', validityDays: 1, keyAlgorithm: 'EC-P384' })
    expect(facts(p384.certificatePem).keyType).toBe('EC P-384')
  })

  it('refuses a validity that is not a positive whole number of days (VALIDATION_FAILED)', async () => {
    const err = await rejects(createCaCertificate({ commonName: 'x', validityDays: 0, keyAlgorithm: 'EC-P256' }), 'VALIDATION_FAILED')
    expect(err.message).toBe('validityDays: must be an integer from 1 to 36500, got 0')
  })
})

describe('issueCertificate', () => {
  it('issues a server certificate that openssl verifies against the CA, with its SANs', async () => {
    const before = Date.now()
    const server = await issueCertificate({
      issuerCertificatePem: ca.certificatePem,
      issuerPrivateKeyPem: ca.privateKeyPem,
      subject: { commonName: 'broker.local' },
      keyAlgorithm: 'EC-P256',
      validityDays: 365,
      purpose: 'server',
      dnsNames: ['localhost', 'broker.local'],
      ipAddresses: ['127.0.0.1', '::1']
    })
    const caPath = await write('server-ca.pem', ca.certificatePem)
    const certPath = await write('server.pem', server.certificatePem)
    expect((await pki.openssl('verify', '-CAfile', caPath, '-purpose', 'sslserver', certPath)).trim()).toBe(`${certPath}: OK`)
    const cert = new X509Certificate(server.certificatePem)
    expect(cert.subjectAltName).toBe('DNS:localhost, DNS:broker.local, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(cert.checkHost('broker.local')).toBe('broker.local')
    expect(cert.checkIP('::1')).toBe('::1')
    const f = facts(server.certificatePem)
    expect(f).toMatchObject({ isCa: false, keyUsage: ['digitalSignature'], extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'], issuer: 'O=Acme, CN=certmq test CA' })
    // random positive 16-byte serial; notBefore five minutes back
    expect(f.serialNumber).toMatch(/^(?!00)[0-7][0-9A-F]{31}$/)
    expect(Date.parse(f.notBefore)).toBeGreaterThanOrEqual(Math.floor((before - 5 * 60_000) / 1000) * 1000)
    expect(Date.parse(f.notBefore)).toBeLessThanOrEqual(Date.now() - 5 * 60_000 + 1000)
    expect(Date.parse(f.notAfter) - Date.now()).toBeGreaterThan(364 * 86_400_000)
    const text = await pki.openssl('x509', '-in', certPath, '-noout', '-text')
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
    expect(text).toContain('Authority Key Identifier')
    expect(samePublicKey(server.certificatePem, server.privateKeyPem)).toBe(true)
  })

  it('issues from an openssl-made CA with a SEC1 key; RSA leaves get keyEncipherment and clientAuth', async () => {
    const opensslCa = await pki.ca('openssl-ca', { cn: 'Made by openssl', o: 'Acme' })
    expect(opensslCa.keyPem).toContain('BEGIN EC PRIVATE KEY')
    const client = await issueCertificate({
      issuerCertificatePem: opensslCa.pem,
      issuerPrivateKeyPem: opensslCa.keyPem,
      subject: { commonName: 'SN000042', organizationalUnit: 'Trucks', organization: 'Acme' },
      keyAlgorithm: 'RSA-2048',
      validityDays: 30,
      purpose: 'client'
    })
    const certPath = await write('client.pem', client.certificatePem)
    expect((await pki.openssl('verify', '-CAfile', opensslCa.certPath, '-purpose', 'sslclient', certPath)).trim()).toBe(`${certPath}: OK`)
    expect(facts(client.certificatePem)).toMatchObject({
      subject: 'O=Acme, OU=Trucks, CN=SN000042', commonName: 'SN000042', organizationalUnit: 'Trucks', organization: 'Acme',
      keyType: 'RSA 2048', keyUsage: ['digitalSignature', 'keyEncipherment'], extendedKeyUsage: ['1.3.6.1.5.5.7.3.2']
    })
    expect(new X509Certificate(client.certificatePem).subjectAltName).toBeUndefined()
  })

  it.each(['rsa2048', 'ec384', 'ed25519'] as const)('signs with a %s CA key that openssl made', async (key) => {
    const keyCa = await pki.ca(`${key}-ca`, { key })
    const leaf = await issueCertificate({
      issuerCertificatePem: keyCa.pem, issuerPrivateKeyPem: keyCa.keyPem, subject: { commonName: 'dev' },
      keyAlgorithm: 'EC-P256', validityDays: 1, purpose: 'client'
    })
    const certPath = await write(`${key}-leaf.pem`, leaf.certificatePem)
    expect((await pki.openssl('verify', '-CAfile', keyCa.certPath, certPath)).trim()).toBe(`${certPath}: OK`)
  })

  it('refuses an issuer that is not a CA (CA_NOT_CA)', async () => {
    const notCa = await issueCertificate({
      issuerCertificatePem: ca.certificatePem, issuerPrivateKeyPem: ca.privateKeyPem, subject: { commonName: 'leaf' },
      keyAlgorithm: 'EC-P256', validityDays: 1, purpose: 'client'
    })
    await rejects(issueCertificate({
      issuerCertificatePem: notCa.certificatePem, issuerPrivateKeyPem: notCa.privateKeyPem, subject: { commonName: 'x' },
      keyAlgorithm: 'EC-P256', validityDays: 1, purpose: 'client'
    }), 'CA_NOT_CA')
  })

  it('refuses a key that does not belong to the issuer certificate (PEM_INVALID)', async () => {
    const other = await createCaCertificate({ commonName: 'other', validityDays: 1, keyAlgorithm: 'EC-P256' })
    const err = await rejects(issueCertificate({
      issuerCertificatePem: ca.certificatePem, issuerPrivateKeyPem: other.privateKeyPem, subject: { commonName: 'x' },
      keyAlgorithm: 'EC-P256', validityDays: 1, purpose: 'client'
    }), 'PEM_INVALID')
    expect(err.message).toBe('issuerPrivateKeyPem: the key does not belong to issuerCertificatePem')
  })

  it('refuses malformed issuer PEM with the field name (PEM_INVALID)', async () => {
    const err = await rejects(issueCertificate({
      issuerCertificatePem: ca.privateKeyPem, issuerPrivateKeyPem: ca.privateKeyPem, subject: { commonName: 'x' },
      keyAlgorithm: 'EC-P256', validityDays: 1, purpose: 'client'
    }), 'PEM_INVALID')
    expect(err.message).toBe('issuerCertificatePem: PEM block 1 is a PRIVATE KEY, expected CERTIFICATE')
  })

  it('refuses an IP address that is not one (VALIDATION_FAILED)', async () => {
    await rejects(issueCertificate({
      issuerCertificatePem: ca.certificatePem, issuerPrivateKeyPem: ca.privateKeyPem, subject: { commonName: 'x' },
      keyAlgorithm: 'EC-P256', validityDays: 1, purpose: 'server', ipAddresses: ['localhost']
    }), 'VALIDATION_FAILED')
  })
})

describe('loadOrCreateBuiltinCa', () => {
  it('creates the CA once (key 0600, dir 0700) and loads the same one afterwards', async () => {
    const dir = join(pki.dir, 'data', 'ca')
    const first = await loadOrCreateBuiltinCa(dir, 'certmq built-in CA (node-1)')
    expect(first.created).toBe(true)
    expect(first.certificatePath).toBe(join(dir, 'builtin-ca.pem'))
    expect(facts(first.certificatePem)).toMatchObject({ commonName: 'certmq built-in CA (node-1)', isCa: true, keyType: 'EC P-256' })
    expect(Date.parse(facts(first.certificatePem).notAfter) - Date.now()).toBeGreaterThan(3649 * 86_400_000)
    expect((await stat(join(dir, 'builtin-ca.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect(await readFile(first.certificatePath, 'utf8')).toBe(first.certificatePem)

    const second = await loadOrCreateBuiltinCa(dir, 'another name')
    expect(second).toEqual({ ...first, created: false })
  })

  it('returns a SEC1 key file as PKCS#8', async () => {
    const dir = join(pki.dir, 'sec1')
    const made = await pki.ca('sec1-ca')
    await loadOrCreateBuiltinCa(dir, 'x') // creates the directory
    await writeFile(join(dir, 'builtin-ca.pem'), made.pem)
    await writeFile(join(dir, 'builtin-ca.key'), made.keyPem)
    const loaded = await loadOrCreateBuiltinCa(dir, 'x')
    expect(loaded.created).toBe(false)
    expect(loaded.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true)
    expect(samePublicKey(loaded.certificatePem, loaded.privateKeyPem)).toBe(true)
  })

  it('refuses to replace a CA certificate whose key is missing (TLS_SETUP_FAILED)', async () => {
    const dir = join(pki.dir, 'keyless')
    await loadOrCreateBuiltinCa(dir, 'x')
    await rm(join(dir, 'builtin-ca.key'))
    const err = await rejects(loadOrCreateBuiltinCa(dir, 'x'), 'TLS_SETUP_FAILED')
    expect(err.message).toContain('builtin-ca.key is missing')
  })
})

describe('loadOrCreateServerCertificate', () => {
  const hosts = ['localhost', 'node-1']
  const ips = ['127.0.0.1', '::1']

  it('issues once, then reuses the same certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-tls-'))
    try {
      const first = await loadOrCreateServerCertificate(dir, ca, hosts, ips)
      expect(first.created).toBe(true)
      const cert = new X509Certificate(first.certificatePem)
      expect(isIssuedBy(cert, new X509Certificate(ca.certificatePem))).toBe(true)
      expect(cert.checkHost('node-1')).toBe('node-1')
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1')
      expect((await stat(join(dir, 'server.key'))).mode & 0o777).toBe(0o600)
      const second = await loadOrCreateServerCertificate(dir, ca, hosts, ips)
      expect(second).toEqual({ ...first, created: false })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('re-issues when the certificate was signed by a different CA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-tls-'))
    try {
      await loadOrCreateServerCertificate(dir, ca, hosts, ips)
      const newCa = await createCaCertificate({ commonName: 'new CA', validityDays: 30, keyAlgorithm: 'EC-P256' })
      const again = await loadOrCreateServerCertificate(dir, newCa, hosts, ips)
      expect(again.created).toBe(true)
      expect(isIssuedBy(new X509Certificate(again.certificatePem), new X509Certificate(newCa.certificatePem))).toBe(true)
      expect(await readFile(join(dir, 'server.pem'), 'utf8')).toBe(again.certificatePem)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('re-issues when fewer than 30 days are left or a name is not covered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-tls-'))
    // a CA with years left: the suite's own ends in 30 days, and nothing outlives its CA
    const ca = await createCaCertificate({ commonName: 'certmq long-lived test CA', validityDays: 3650, keyAlgorithm: 'EC-P256' })
    try {
      const short = await issueCertificate({
        issuerCertificatePem: ca.certificatePem, issuerPrivateKeyPem: ca.privateKeyPem, subject: { commonName: 'localhost' },
        keyAlgorithm: 'EC-P256', validityDays: 10, purpose: 'server', dnsNames: hosts, ipAddresses: ips
      })
      await writeFile(join(dir, 'server.pem'), short.certificatePem)
      await writeFile(join(dir, 'server.key'), short.privateKeyPem)
      const renewed = await loadOrCreateServerCertificate(dir, ca, hosts, ips)
      expect(renewed.created).toBe(true)
      expect(Date.parse(new X509Certificate(renewed.certificatePem).validTo) - Date.now()).toBeGreaterThan(300 * 86_400_000)

      expect((await loadOrCreateServerCertificate(dir, ca, [...hosts, 'node-2'], ips)).created).toBe(true)
      expect((await loadOrCreateServerCertificate(dir, ca, ['node-2'], ['::1'])).created).toBe(false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('treats an IP among the hostnames as an IP and leaves out names that cannot be a DNS SAN', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-tls-'))
    try {
      const odd = ['Node-1', '10.0.0.5', 'my host', 'node-1']
      const first = await loadOrCreateServerCertificate(dir, ca, odd, ['127.0.0.1'])
      expect(new X509Certificate(first.certificatePem).subjectAltName).toBe('DNS:node-1, IP Address:127.0.0.1, IP Address:10.0.0.5')
      expect((await loadOrCreateServerCertificate(dir, ca, odd, ['127.0.0.1'])).created).toBe(false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('replaces a damaged key file instead of failing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-tls-'))
    try {
      await loadOrCreateServerCertificate(dir, ca, hosts, ips)
      await writeFile(join(dir, 'server.key'), 'garbage')
      const again = await loadOrCreateServerCertificate(dir, ca, hosts, ips)
      expect(again.created).toBe(true)
      expect(samePublicKey(again.certificatePem, again.privateKeyPem)).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('never issues past the CA\'s own end, and refuses once the CA has ended (TLS_SETUP_FAILED)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-tls-'))
    try {
      const caEnd = Date.parse(new X509Certificate(ca.certificatePem).validTo)
      // 100 days before the CA ends: the certificate ends with it, not a year later
      const late = await loadOrCreateServerCertificate(dir, ca, hosts, ips, caEnd - 100 * 86_400_000)
      expect(Date.parse(new X509Certificate(late.certificatePem).validTo)).toBeLessThanOrEqual(caEnd)
      await rm(dir, { recursive: true, force: true })
      const err = await rejects(loadOrCreateServerCertificate(dir, ca, hosts, ips, caEnd + 86_400_000), 'TLS_SETUP_FAILED')
      expect(err.message).toContain('built-in CA: it expired on')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
