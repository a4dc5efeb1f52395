/**
 * Fast issuance of many EC P-256 device certificates that differ only in serial, CN and key (a
 * simulated fleet of 10,000 in seconds). One certificate is issued the regular way
 * (pki/certificate-authority) as a template; for each device the template's to-be-signed bytes
 * get a new serial, CN, public key and subject key identifier — every one the same length as
 * the template's, so no DER length changes — and are signed with node:crypto on the thread pool.
 *
 * Only the fleet simulator uses this. The first certificate made is checked with node:crypto
 * (issuer, signature, subject); when anything about the template does not fit (a placeholder
 * not found exactly once, another key identifier method), `create` returns undefined and the
 * caller issues the slow way.
 */
import { createHash, createPrivateKey, generateKeyPair, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { issueCertificate, type PreparedIssuer } from '../pki/certificate-authority.js'
import { fingerprintOfDer, formatSerial } from '../pki/inspect.js'
import { derToPem, parseCertificatePem } from '../pki/pem.js'

const generateKeyPairAsync = promisify(generateKeyPair)
const signAsync = promisify(sign)

export interface TemplateSubject {
  organizationalUnit: string
  organization: string
}

export class TemplateIssuer {
  private constructor (
    private readonly tbs: Buffer,
    private readonly signatureAlgorithm: Buffer,
    private readonly at: { serial: number, serialLength: number, cn: number, spki: number, ski: number },
    private readonly cnLength: number,
    private readonly caKey: KeyObject,
    private readonly caCertificate: X509Certificate,
    private readonly hash: string
  ) {}

  /**
   * undefined when the template does not fit (the caller then issues the slow way). `notBefore`
   * (default 5 minutes ago) lets scripts/seed-certificates.ts make older, even expired, fleets.
   */
  static async create (ca: { certificatePem: string, privateKeyPem: string }, issuer: PreparedIssuer, subject: TemplateSubject,
    sampleCommonName: string, validityDays: number, notBefore?: Date): Promise<TemplateIssuer | undefined> {
    const template = await issueCertificate({
      ...(notBefore === undefined ? {} : { notBefore }),
      issuerCertificatePem: ca.certificatePem,
      issuerPrivateKeyPem: ca.privateKeyPem,
      preparedIssuer: issuer,
      subject: { commonName: sampleCommonName, ...subject },
      keyAlgorithm: 'EC-P256',
      validityDays,
      purpose: 'client'
    })
    const der = parseCertificatePem(template.certificatePem, 'template').der
    const outer = readHeader(der, 0)
    const tbsHeader = readHeader(der, outer.contentStart)
    const tbs = der.subarray(outer.contentStart, tbsHeader.end)
    const algHeader = readHeader(der, tbsHeader.end)
    const signatureAlgorithm = der.subarray(tbsHeader.end, algHeader.end)

    const node = new X509Certificate(der)
    const serial = Buffer.from(node.serialNumber, 'hex')
    const publicSpki = node.publicKey.export({ type: 'spki', format: 'der' })
    const ski = subjectKeyIdentifier(publicSpki)
    const at = {
      serial: onlyIndex(tbs, serial),
      serialLength: serial.length,
      cn: onlyIndex(tbs, Buffer.from(sampleCommonName, 'utf8')),
      spki: onlyIndex(tbs, publicSpki),
      ski: onlyIndex(tbs, ski)
    }
    if (Object.values(at).some((i) => i < 0) || publicSpki.length !== 91) return undefined
    const caKey = createPrivateKey(ca.privateKeyPem)
    const made = new TemplateIssuer(Buffer.from(tbs), Buffer.from(signatureAlgorithm), at, sampleCommonName.length, caKey, new X509Certificate(ca.certificatePem), signingHash(caKey))
    // check the method on one certificate before trusting it with a fleet
    const probe = await made.issue(sampleCommonName)
    const probeCert = new X509Certificate(probe.certificatePem)
    const ok = probeCert.checkIssued(made.caCertificate) && probeCert.verify(made.caCertificate.publicKey) &&
      probeCert.subject.includes(`CN=${sampleCommonName}`) && probeCert.publicKey.export({ type: 'spki', format: 'der' }).length === 91
    return ok ? made : undefined
  }

  /** `serialNumber` is uppercase hex of the serial's bytes, as pki/inspect.ts writes it. */
  async issue (commonName: string): Promise<{ certificatePem: string, privateKeyPem: string, fingerprint: string, serialNumber: string }> {
    if (Buffer.byteLength(commonName) !== this.cnLength) throw new Error(`template CN length is ${this.cnLength}, "${commonName}" does not fit`)
    const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })
    const spki = publicKey.export({ type: 'spki', format: 'der' })
    const tbs = Buffer.from(this.tbs)
    const serial = randomBytes(this.at.serialLength)
    serial[0] = (serial[0]! & 0x7f) | 0x01
    serial.copy(tbs, this.at.serial)
    tbs.write(commonName, this.at.cn, 'utf8')
    spki.copy(tbs, this.at.spki)
    subjectKeyIdentifier(spki).copy(tbs, this.at.ski)
    const signature = await signAsync(this.hash, tbs, this.caKey)
    const bitString = Buffer.concat([Buffer.from([0x03]), derLength(signature.length + 1), Buffer.from([0x00]), signature])
    const body = Buffer.concat([tbs, this.signatureAlgorithm, bitString])
    const der = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body])
    return {
      certificatePem: derToPem(der, 'CERTIFICATE'),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      fingerprint: fingerprintOfDer(der),
      serialNumber: formatSerial(serial.toString('hex'))
    }
  }
}

/**
 * The hash of the template's signature algorithm: pki/certificate-authority signs with a P-384
 * CA key over SHA-384 and a P-521 one over SHA-512, with the others over SHA-256. Signed over
 * another, the probe in `create` fails and the fleet is issued the slow way.
 */
function signingHash (caKey: KeyObject): string {
  const curve = caKey.asymmetricKeyDetails?.namedCurve
  return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256'
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value (for P-256, its last 65 bytes). */
function subjectKeyIdentifier (spki: Buffer): Buffer {
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest()
}

function onlyIndex (haystack: Buffer, needle: Buffer): number {
  const first = haystack.indexOf(needle)
  if (first < 0 || haystack.indexOf(needle, first + 1) >= 0) return -1
  return first
}

function readHeader (der: Buffer, offset: number): { contentStart: number, end: number } {
  const first = der[offset + 1]!
  if (first < 0x80) return { contentStart: offset + 2, end: offset + 2 + first }
  const n = first & 0x7f
  let length = 0
  for (let i = 0; i < n; i++) length = length * 256 + der[offset + 2 + i]!
  return { contentStart: offset + 2 + n, end: offset + 2 + n + length }
}

function derLength (length: number): Buffer {
  if (length < 0x80) return Buffer.from([length])
  const bytes: number[] = []
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
