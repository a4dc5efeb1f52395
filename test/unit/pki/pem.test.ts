import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { X509Certificate } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { CertmqError } from '../../../src/errors.js'
import { derToPem, parseCertificatePem, parseCertificatesPem, parsePrivateKeyPem, pemChain, splitPemBlocks } from '../../../src/pki/pem.js'
import { OpenSslPki, type OpenSslCa, type OpenSslCert } from '../../helpers/openssl.js'

let pki: OpenSslPki
let root: OpenSslCa
let cert: OpenSslCert

beforeAll(async () => {
  pki = await OpenSslPki.create()
  root = await pki.ca('root')
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
  it('skips text before, between and after blocks (RFC 7468 §2)', () => {
    const blocks = splitPemBlocks(`subject=CN=x\nissuer=CN=y\n${cert.pem}between: the key\n${cert.keyPem}-- end of file --\n`, 'upload ca.pem')
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'EC PRIVATE KEY'])
    expect(blocks[0]?.der.equals(new X509Certificate(cert.pem).raw)).toBe(true)
  })
  it('returns no blocks for text without any block', () => {
    expect(splitPemBlocks('Certificate:\n    Data:\n        Version: 3 (0x2)\n')).toEqual([])
  })
  it('refuses an END line outside a block, which means the BEGIN line was lost, and names the line (PEM_INVALID)', () => {
    const headless = cert.pem.replace('-----BEGIN CERTIFICATE-----\n', '')
    const err = pemError(() => splitPemBlocks(`subject=CN=x\n${headless}`, 'upload ca.pem'))
    expect(err.message).toMatch(/^upload ca\.pem: line \d+: END line without a BEGIN line$/)
    expect(err.details).toMatchObject({ where: 'upload ca.pem', line: headless.split('\n').length })
  })
  it('refuses a malformed BEGIN line rather than skipping its block as text, and names the line (PEM_INVALID)', () => {
    const mangled = cert.pem.replace('-----BEGIN CERTIFICATE-----', '-----BEGIN CERTIFICATE----')
    const err = pemError(() => splitPemBlocks(`subject=CN=x\n${mangled}`, 'upload ca.pem'))
    expect(err.message).toBe('upload ca.pem: line 2: malformed PEM boundary, expected -----BEGIN LABEL----- or -----END LABEL-----')
    expect(err.details).toMatchObject({ where: 'upload ca.pem', line: 2 })
  })
})

describe('PEM files with explanatory text, as OpenSSL writes them', () => {
  it('reads `openssl x509 -text` output: the readable dump before the block is skipped', async () => {
    const text = await pki.openssl('x509', '-in', root.certPath, '-text')
    expect(text).toMatch(/^Certificate:\n/)
    const parsed = parseCertificatePem(text, 'certificatePem')
    expect(parsed.der.equals(new X509Certificate(root.pem).raw)).toBe(true)
    expect(parsed.pem).toBe(root.pem)
  })
  it('reads certificates and a key exported from PKCS#12, with their "Bag Attributes" lines', async () => {
    const p12 = pki.path('dev.p12')
    await pki.openssl('pkcs12', '-export', '-in', cert.certPath, '-inkey', cert.keyPath, '-certfile', root.certPath,
      '-name', 'device-1', '-passout', 'pass:secret', '-out', p12)
    const certs = await pki.openssl('pkcs12', '-in', p12, '-passin', 'pass:secret', '-nokeys')
    expect(certs).toMatch(/^Bag Attributes\n/)
    expect(parseCertificatesPem(certs, 'chainPem').map((c) => c.fingerprint256).sort())
      .toEqual([new X509Certificate(cert.pem).fingerprint256, new X509Certificate(root.pem).fingerprint256].sort())
    const leafOnly = await pki.openssl('pkcs12', '-in', p12, '-passin', 'pass:secret', '-nokeys', '-clcerts')
    expect(parseCertificatePem(leafOnly, 'certificatePem').pem).toBe(cert.pem)
    const key = await pki.openssl('pkcs12', '-in', p12, '-passin', 'pass:secret', '-nocerts', '-nodes')
    expect(key).toMatch(/^Bag Attributes\n/)
    expect(parsePrivateKeyPem(key, 'key').asymmetricKeyType).toBe('ec')
    // everything at once is still one certificate too many, and a certificate is still not a key
    const all = await pki.openssl('pkcs12', '-in', p12, '-passin', 'pass:secret', '-nodes')
    expect(pemError(() => parseCertificatePem(all, 'certificatePem')).message).toMatch(/^certificatePem: PEM block \d is a PRIVATE KEY, expected CERTIFICATE$/)
    expect(pemError(() => parsePrivateKeyPem(leafOnly, 'key')).message).toBe('key: a CERTIFICATE block, expected an unencrypted PRIVATE KEY')
  })
  it('keeps every check inside the block of an `openssl x509 -text` file (PEM_INVALID)', async () => {
    const text = await pki.openssl('x509', '-in', root.certPath, '-text')
    const begin = text.split('\n').indexOf('-----BEGIN CERTIFICATE-----') + 1
    expect(pemError(() => parseCertificatePem(text.replace(/-----BEGIN CERTIFICATE-----\n./, '-----BEGIN CERTIFICATE-----\n*'), 'certificatePem')).message)
      .toBe(`certificatePem: PEM block 1 (CERTIFICATE): body is not valid base64 (line ${begin + 1})`)
    expect(pemError(() => parseCertificatePem(text.replace('-----END CERTIFICATE-----', ''), 'certificatePem')).message)
      .toBe(`certificatePem: PEM block 1 (CERTIFICATE, line ${begin}) has no END line`)
    expect(pemError(() => parseCertificatePem(text.replace('-----END CERTIFICATE-----', '-----END X509 CRL-----'), 'certificatePem')).message)
      .toMatch(new RegExp(`^certificatePem: PEM block 1: BEGIN CERTIFICATE \\(line ${begin}\\) is closed by END X509 CRL \\(line \\d+\\)$`))
    const dumpOnly = text.slice(0, text.indexOf('-----BEGIN'))
    expect(pemError(() => parseCertificatePem(dumpOnly, 'certificatePem')).message)
      .toBe('certificatePem: no PEM block found (expected -----BEGIN CERTIFICATE-----)')
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
  it('reports a text that is not PEM at all as having no PEM block (PEM_INVALID)', () => {
    expect(pemError(() => parseCertificatePem('hello', 'certificatePem')).message)
      .toBe('certificatePem: no PEM block found (expected -----BEGIN CERTIFICATE-----)')
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
  it('refuses a body with characters outside base64 and names the line (PEM_INVALID)', () => {
    const pem = cert.pem.replace(/\n(.)/, '\n*')
    const err = pemError(() => parseCertificatePem(pem, 'certificatePem'))
    expect(err.message).toBe('certificatePem: PEM block 1 (CERTIFICATE): body is not valid base64 (line 2)')
    expect(err.details).toMatchObject({ block: 1, line: 2 })
  })
  it('refuses a body of base64 characters with a bad length (PEM_INVALID)', () => {
    const pem = cert.pem.replace(/\n(.)/, '\n')
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
