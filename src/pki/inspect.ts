/**
 * Certificate → CertificateFacts: read once at registration (and for unknown certificates at
 * CONNECT), stored with the record, so nothing parses extensions again for a known certificate.
 */
import { x509 } from './x509-setup.js'
import { createHash, createPublicKey } from 'node:crypto'
import type { CertificateFacts } from '../domain/certificate.js'
import { CertmqError } from '../errors.js'
import { parseCertificatePem } from './pem.js'

const OID_CN = '2.5.4.3'
const OID_OU = '2.5.4.11'
const OID_O = '2.5.4.10'

// RFC 5280 §4.2.1.3, in bit order; bit 1 is "contentCommitment" in recent X.509 editions
const KEY_USAGE_NAMES: ReadonlyArray<[x509.KeyUsageFlags, string]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly']
]

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521'
}

/** SHA-256 of the DER encoding, lowercase hex: the certificate id everywhere in certmq. */
export function fingerprintOfDer (der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

/** The id of a certificate given as PEM (SHA-256 of its DER, lowercase hex); PEM_INVALID names `where`. */
export function fingerprintOfPem (pem: string, where = 'certificatePem'): string {
  return fingerprintOfDer(parseCertificatePem(pem, where).der)
}

/**
 * Reads the facts certmq keeps about a certificate. `subject` and `issuer` are
 * `C=DE, O=Acme, CN=dev-1` strings (RFC 4514 escaping, attributes in certificate order);
 * CN is the last CN attribute, OU and O join repeated attributes with ', '.
 * Throws PEM_INVALID when the DER is not a certificate @peculiar/x509 can read.
 */
export function inspectCertificate (der: Uint8Array, where = 'certificate'): CertificateFacts {
  try {
    const cert = new x509.X509Certificate(der)
    const name = cert.subjectName
    const basic = cert.getExtension(x509.BasicConstraintsExtension)
    const keyUsage = cert.getExtension(x509.KeyUsagesExtension)
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)
    return {
      fingerprint: fingerprintOfDer(der),
      serialNumber: formatSerial(cert.serialNumber),
      subject: cert.subject,
      issuer: cert.issuer,
      commonName: name.getField(OID_CN).at(-1) ?? '',
      organizationalUnit: name.getField(OID_OU).join(', '),
      organization: name.getField(OID_O).join(', '),
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      keyType: keyTypeOf(cert.publicKey),
      isCa: basic?.ca ?? false,
      keyUsage: keyUsage === null
        ? null
        : KEY_USAGE_NAMES.filter(([flag]) => (keyUsage.usages & flag) !== 0).map(([, usage]) => usage),
      extendedKeyUsage: eku === null ? null : Array.from(eku.usages, String)
    }
  } catch (err) {
    if (err instanceof CertmqError) throw err
    throw new CertmqError('PEM_INVALID', `${where}: not a readable X.509 certificate (${(err as Error).message})`,
      { where }, { cause: err })
  }
}

/**
 * Uppercase hex of the serial's magnitude, whole bytes, no sign byte: `0C11A5…`, as
 * `openssl x509 -serial` and Node's X509Certificate.serialNumber print it.
 */
export function formatSerial (hex: string): string {
  let serial = hex.length % 2 === 1 ? `0${hex}` : hex
  while (serial.length > 2 && serial.startsWith('00')) serial = serial.slice(2)
  return serial.toUpperCase()
}

function keyTypeOf (publicKey: x509.PublicKey): string {
  let key
  try {
    key = createPublicKey({ key: Buffer.from(publicKey.rawData), format: 'der', type: 'spki' })
  } catch {
    // a key type OpenSSL cannot load (an unusual curve): name it by what the certificate says
    try {
      return publicKey.algorithm.name
    } catch {
      return 'unknown'
    }
  }
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'rsa': return `RSA ${details.modulusLength ?? '?'}`
    case 'rsa-pss': return `RSA-PSS ${details.modulusLength ?? '?'}`
    case 'dsa': return `DSA ${details.modulusLength ?? '?'}`
    case 'ec': {
      const curve = details.namedCurve ?? '?'
      return `EC ${CURVE_NAMES[curve] ?? curve}`
    }
    case 'ed25519': return 'Ed25519'
    case 'ed448': return 'Ed448'
    default: return key.asymmetricKeyType ?? 'unknown'
  }
}
