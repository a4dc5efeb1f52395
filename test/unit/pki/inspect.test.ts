import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { X509Certificate } from 'node:crypto'
import { CertmqError } from '../../../src/errors.js'
import { fingerprintOfDer, inspectCertificate } from '../../../src/pki/inspect.js'
import { OpenSslPki, type OpenSslCa, type OpenSslCert } from '../../helpers/openssl.js'

let pki: OpenSslPki
let root: OpenSslCa
let rsaLeaf: OpenSslCert
let ecLeaf: OpenSslCert

beforeAll(async () => {
  pki = await OpenSslPki.create()
  root = await pki.ca('root', { cn: 'Fleet Root CA', o: 'Acme' })
  rsaLeaf = await pki.leaf('rsa', root, { cn: 'SN000042', ou: ['Trucks', 'EU'], o: 'Acme, Inc', key: 'rsa4096' })
  ecLeaf = await pki.leaf('ec', root, { cn: 'SN000043', eku: 'none', keyUsage: 'none' })
}, 60_000)
afterAll(async () => { await pki.cleanup() })

function der (pem: string): Buffer {
  return new X509Certificate(pem).raw
}

/** serial and SHA-256 fingerprint as `openssl x509` prints them. */
async function opensslIds (certPath: string): Promise<{ serial: string, fingerprint: string }> {
  const out = await pki.openssl('x509', '-in', certPath, '-noout', '-serial', '-fingerprint', '-sha256')
  const serial = /serial=([0-9A-F]+)/.exec(out)?.[1] ?? ''
  const fingerprint = (/Fingerprint=([0-9A-F:]+)/.exec(out)?.[1] ?? '').replace(/:/g, '').toLowerCase()
  return { serial, fingerprint }
}

async function opensslDates (certPath: string): Promise<{ notBefore: string, notAfter: string }> {
  const out = await pki.openssl('x509', '-in', certPath, '-noout', '-startdate', '-enddate')
  const date = (key: string): string => new Date(/=(.*)/.exec(out.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? '').toISOString()
  return { notBefore: date('notBefore'), notAfter: date('notAfter') }
}

describe('inspectCertificate', () => {
  it('reads an openssl-made RSA 4096 device certificate', async () => {
    const facts = inspectCertificate(der(rsaLeaf.pem))
    const ids = await opensslIds(rsaLeaf.certPath)
    expect(facts).toEqual({
      fingerprint: ids.fingerprint,
      serialNumber: ids.serial,
      subject: 'O=Acme\\, Inc, OU=Trucks, OU=EU, CN=SN000042',
      issuer: 'O=Acme, CN=Fleet Root CA',
      commonName: 'SN000042',
      organizationalUnit: 'Trucks, EU',
      organization: 'Acme, Inc',
      ...(await opensslDates(rsaLeaf.certPath)),
      keyType: 'RSA 4096',
      isCa: false,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.2']
    })
  })

  it('reads an EC P-256 certificate without keyUsage and EKU as null for both', async () => {
    const facts = inspectCertificate(der(ecLeaf.pem))
    const ids = await opensslIds(ecLeaf.certPath)
    expect(facts).toMatchObject({
      fingerprint: ids.fingerprint,
      serialNumber: ids.serial,
      subject: 'CN=SN000043',
      commonName: 'SN000043',
      organizationalUnit: '',
      organization: '',
      keyType: 'EC P-256',
      isCa: false,
      keyUsage: null,
      extendedKeyUsage: null
    })
  })

  it('reads a CA: CA:TRUE, keyCertSign and cRLSign, no EKU', async () => {
    const facts = inspectCertificate(der(root.pem))
    const ids = await opensslIds(root.certPath)
    expect(facts).toMatchObject({
      fingerprint: ids.fingerprint,
      serialNumber: ids.serial,
      subject: 'O=Acme, CN=Fleet Root CA',
      issuer: 'O=Acme, CN=Fleet Root CA',
      commonName: 'Fleet Root CA',
      keyType: 'EC P-256',
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign'],
      extendedKeyUsage: null
    })
  })

  it('names EC P-384 and Ed25519 keys', async () => {
    const p384 = await pki.leaf('p384', root, { cn: 'p384', key: 'ec384' })
    const ed = await pki.leaf('ed', root, { cn: 'ed', key: 'ed25519' })
    expect(inspectCertificate(der(p384.pem)).keyType).toBe('EC P-384')
    expect(inspectCertificate(der(ed.pem)).keyType).toBe('Ed25519')
  })

  it('prints serials as openssl and Node do: whole bytes, no sign byte', async () => {
    const key = pki.path('serial.key')
    await pki.openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key)
    for (const [n, serial] of [['1', '01'], ['0xFF01', 'FF01'], ['0x0ABC', '0ABC']] as const) {
      const path = pki.path(`serial-${serial}.pem`)
      await pki.openssl('req', '-x509', '-new', '-key', key, '-subj', '/CN=serial', '-set_serial', n, '-days', '1', '-out', path)
      const facts = inspectCertificate(der(await pki.openssl('x509', '-in', path)))
      expect(facts.serialNumber).toBe(serial)
      expect(facts.serialNumber).toBe((await opensslIds(path)).serial)
      expect(facts.serialNumber).toBe(new X509Certificate(await pki.openssl('x509', '-in', path)).serialNumber)
    }
  })

  it('reads a certificate from a view into a larger buffer (as TLS sockets hand them out)', () => {
    const raw = der(ecLeaf.pem)
    const padded = Buffer.concat([Buffer.alloc(7, 0xff), raw, Buffer.alloc(3)])
    expect(inspectCertificate(padded.subarray(7, 7 + raw.length))).toEqual(inspectCertificate(raw))
  })

  it('turns bytes that are not a certificate into PEM_INVALID naming where', () => {
    let error: unknown
    try {
      inspectCertificate(Buffer.from('30030201ff', 'hex'), 'certificatePem')
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(CertmqError)
    expect((error as CertmqError).code).toBe('PEM_INVALID')
    expect((error as CertmqError).message).toMatch(/^certificatePem: not a readable X\.509 certificate/)
    expect((error as CertmqError).cause).toBeDefined()
  })
})

describe('fingerprintOfDer', () => {
  it('is the SHA-256 of the DER, lowercase hex, equal to Node\'s fingerprint256', () => {
    const cert = new X509Certificate(rsaLeaf.pem)
    expect(fingerprintOfDer(cert.raw)).toBe(cert.fingerprint256.replace(/:/g, '').toLowerCase())
    expect(fingerprintOfDer(cert.raw)).toBe(inspectCertificate(cert.raw).fingerprint)
  })
})
