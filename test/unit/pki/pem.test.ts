import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { X509Certificate } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { CertmqError } from '../../../src/errors.js'
import { derToPem, parseCertificatePem, parsePrivateKeyPem, pemChain, splitPemBlocks } from '../../../src/pki/pem.js'
import { OpenSslPki, type OpenSslCert } from '../../helpers/openssl.js'

let pki: OpenSslPki
let cert: OpenSslCert

beforeAll(async () => {
  pki = await OpenSslPki.create()
  const root = await pki.ca('root')
  cert = await pki.leaf('dev', root, { cn: 'device-1' })
})
afterAll(async () => { await pki.cleanup() })

/** Runs `fn`, expects a PEM_INVALID CertmqError and returns it. */
function pemError (fn: () => unknown): CertmqError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CertmqError)
    expect((err as CertmqError).code).toBe('PEM_INVALID')
    return err as CertmqError
  }
  throw new Error('expected PEM_INVALID, nothing was thrown')
}

function body (pem: string): string {
  return pem.split('\n').filter((line) => !line.startsWith('-----') && line !== '').join('\n')
}

describe('splitPemBlocks', () => {
  it('returns every block in order with its label and DER', () => {
    const blocks = splitPemBlocks(cert.pem + '\n' + cert.keyPem)
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'EC PRIVATE KEY'])
    expect(blocks[0]?.der.equals(new X509Certificate(cert.pem).raw)).toBe(true)
  })
  it('returns no blocks for blank text', () => {
    expect(splitPemBlocks(' \r\n\n')).toEqual([])
  })
  it('refuses text outside a block and names the line (PEM_INVALID)', () => {
    const err = pemError(() => splitPemBlocks(`subject=CN=x\n${cert.pem}`, 'upload ca.pem'))
    expect(err.message).toBe('upload ca.pem: line 1: unexpected text outside a PEM block')
    expect(err.details).toMatchObject({ where: 'upload ca.pem', line: 1 })
  })
})

describe('parseCertificatePem', () => {
  it('accepts one CERTIFICATE block with CRLF line ends and surrounding whitespace', () => {
    const crlf = `\r\n  \r\n${cert.pem.replace(/\n/g, '\r\n')}\r\n\t\r\n`
    const parsed = parseCertificatePem(crlf, 'certificatePem')
    expect(parsed.der.equals(new X509Certificate(cert.pem).raw)).toBe(true)
    expect(parsed.pem).toBe(cert.pem)
  })
  it('normalizes the PEM to 64-column lines with a final newline', () => {
    const oneLine = `-----BEGIN CERTIFICATE-----\n${body(cert.pem).replace(/\n/g, '')}\n-----END CERTIFICATE-----`
    expect(parseCertificatePem(oneLine, 'certificatePem').pem).toBe(cert.pem)
  })
  it('reports "no PEM block found" for blank text (PEM_INVALID)', () => {
    const err = pemError(() => parseCertificatePem('  \n', 'certificatePem'))
    expect(err.message).toBe('certificatePem: no PEM block found (expected -----BEGIN CERTIFICATE-----)')
    expect(err.details).toEqual({ where: 'certificatePem' })
  })
  it('reports a text that is not PEM at all with the line (PEM_INVALID)', () => {
    expect(pemError(() => parseCertificatePem('hello', 'certificatePem')).message)
      .toBe('certificatePem: line 1: unexpected text outside a PEM block')
  })
  it('reports a private key given as block 2 (PEM_INVALID)', () => {
    const err = pemError(() => parseCertificatePem(cert.pem + cert.keyPem, 'certificatePem'))
    expect(err.message).toBe('certificatePem: PEM block 2 is an EC PRIVATE KEY, expected CERTIFICATE')
    expect(err.details).toMatchObject({ where: 'certificatePem', block: 2, label: 'EC PRIVATE KEY' })
  })
  it('refuses two certificates where one is expected (PEM_INVALID)', () => {
    expect(pemError(() => parseCertificatePem(cert.pem + cert.pem, 'certificatePem')).message)
      .toBe('certificatePem: 2 CERTIFICATE blocks found, expected exactly one')
  })
  it('reports a base64 body that is not a DER certificate, with the cause (PEM_INVALID)', () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from('hello world').toString('base64')}\n-----END CERTIFICATE-----\n`
    const err = pemError(() => parseCertificatePem(pem, 'certificatePem'))
    expect(err.message).toMatch(/^certificatePem: base64 body is not a DER certificate \(/)
    expect(err.cause).toBeInstanceOf(Error)
  })
  it('refuses a certificate followed by extra bytes inside the block (PEM_INVALID)', () => {
    const der = Buffer.concat([new X509Certificate(cert.pem).raw, Buffer.from([0, 0, 0])])
    expect(pemError(() => parseCertificatePem(derToPem(der, 'CERTIFICATE'), 'certificatePem')).message)
      .toMatch(/^certificatePem: base64 body is not a DER certificate/)
  })
  it('refuses a body with characters outside base64 (PEM_INVALID)', () => {
    const pem = cert.pem.replace(/\n(.)/, '\n*')
    expect(pemError(() => parseCertificatePem(pem, 'certificatePem')).message)
      .toBe('certificatePem: PEM block 1 (CERTIFICATE): body is not valid base64')
  })
  it('refuses a block without an END line (PEM_INVALID)', () => {
    const pem = cert.pem.replace('-----END CERTIFICATE-----', '')
    expect(pemError(() => parseCertificatePem(pem, 'certificatePem')).message)
      .toBe('certificatePem: PEM block 1 (CERTIFICATE, line 1) has no END line')
  })
  it('refuses a block closed by another label (PEM_INVALID)', () => {
    const pem = cert.pem.replace('-----END CERTIFICATE-----', '-----END PRIVATE KEY-----')
    expect(pemError(() => parseCertificatePem(pem, 'certificatePem')).message)
      .toMatch(/^certificatePem: PEM block 1: BEGIN CERTIFICATE \(line 1\) is closed by END PRIVATE KEY \(line \d+\)$/)
  })
  it('refuses an empty block (PEM_INVALID)', () => {
    expect(pemError(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----', 'certificatePem')).message)
      .toBe('certificatePem: PEM block 1 (CERTIFICATE) has an empty body')
  })
  it('refuses something that is not a string (PEM_INVALID)', () => {
    expect(pemError(() => parseCertificatePem(undefined as unknown as string, 'certificatePem')).message)
      .toBe('certificatePem: expected PEM text, got undefined')
  })
})

describe('derToPem', () => {
  it('writes PEM that openssl reads back to the same certificate', async () => {
    const der = new X509Certificate(cert.pem).raw
    const path = pki.path('roundtrip.pem')
    await writeFile(path, derToPem(der, 'CERTIFICATE'))
    const fingerprint = await pki.openssl('x509', '-in', path, '-noout', '-fingerprint', '-sha256')
    expect(fingerprint.trim()).toBe(`sha256 Fingerprint=${new X509Certificate(cert.pem).fingerprint256}`)
    expect(derToPem(der, 'CERTIFICATE').split('\n').every((line) => line.length <= 64)).toBe(true)
  })
  it('encodes a view into a larger buffer by its own bytes only', () => {
    const der = new X509Certificate(cert.pem).raw
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), der, Buffer.from([4])])
    expect(derToPem(padded.subarray(3, 3 + der.length), 'CERTIFICATE')).toBe(cert.pem)
  })
})

describe('parsePrivateKeyPem', () => {
  it('reads a SEC1 EC key as openssl ecparam -genkey writes it, EC PARAMETERS included', async () => {
    const path = pki.path('with-params.key')
    await pki.openssl('ecparam', '-name', 'prime256v1', '-genkey', '-out', path)
    const text = await readFile(path, 'utf8')
    expect(text).toContain('EC PARAMETERS')
    expect(parsePrivateKeyPem(text, 'key').asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(parsePrivateKeyPem(cert.keyPem, 'key').asymmetricKeyType).toBe('ec')
  })
  it('refuses a certificate given as a key (PEM_INVALID)', () => {
    expect(pemError(() => parsePrivateKeyPem(cert.pem, 'issuerPrivateKeyPem')).message)
      .toBe('issuerPrivateKeyPem: a CERTIFICATE block, expected an unencrypted PRIVATE KEY')
  })
  it('refuses an encrypted key (PEM_INVALID)', async () => {
    const encrypted = await pki.openssl('pkcs8', '-topk8', '-in', cert.keyPath, '-passout', 'pass:secret')
    expect(pemError(() => parsePrivateKeyPem(encrypted, 'key')).message)
      .toBe('key: an ENCRYPTED PRIVATE KEY block, expected an unencrypted PRIVATE KEY')
  })
})

describe('pemChain', () => {
  it('puts the blocks one after the other, each ending in one newline, whatever whitespace they carried', () => {
    const chain = pemChain(`${cert.pem}\n\n`, cert.pem.trimEnd())
    expect(chain).toBe(`${cert.pem.trimEnd()}\n${cert.pem.trimEnd()}\n`)
    expect(splitPemBlocks(chain)).toHaveLength(2)
  })
})
