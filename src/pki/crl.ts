/**
 * Certificate revocation lists (RFC 5280 §5) uploaded for a registered CA: parse PEM or DER,
 * check that the CA issued and signed it. Dates are judged by the domain (domain/crl.ts).
 * Parsed with @peculiar/x509 (STACK.md: CRLs are its job; the hot path never parses one).
 */
import { x509 } from './x509-setup.js'
import { CertmqError } from '../errors.js'
import { formatSerial } from './inspect.js'
import { splitPemBlocks } from './pem.js'

export interface ParsedCrl {
  der: Buffer
  issuer: string
  thisUpdate: Date
  nextUpdate: Date | undefined
  /** Revoked serials as certmq writes serials: uppercase hex, no leading zero bytes. */
  serials: string[]
  crl: x509.X509Crl
}

/** PEM labels a CRL arrives with: RFC 7468 `X509 CRL`, and the bare `CRL` some tools write. */
const CRL_LABELS = new Set(['X509 CRL', 'CRL'])

/** Reads one CRL from PEM text or DER bytes. Throws CRL_INVALID saying what is wrong. */
export function parseCrl (input: string | Buffer, where: string): ParsedCrl {
  const der = typeof input === 'string' ? crlDerOfPem(input, where) : input
  if (der.length === 0) throw new CertmqError('CRL_INVALID', `${where}: the body is empty`, { where })
  let crl: x509.X509Crl
  try {
    crl = new x509.X509Crl(der)
  } catch (err) {
    throw new CertmqError('CRL_INVALID', `${where}: not a DER X.509 CRL (${(err as Error).message})`, { where }, { cause: err })
  }
  const serials = crl.entries.map((entry) => formatSerial(entry.serialNumber))
  return { der, issuer: crl.issuer, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, serials, crl }
}

/**
 * Checks that the CA whose certificate is `caPem` issued the CRL (issuer name = CA subject) and
 * signed it (signature verified with the CA's public key). Throws CRL_INVALID.
 */
export async function verifyCrlIssuer (parsed: ParsedCrl, caPem: string, where: string): Promise<void> {
  const ca = new x509.X509Certificate(caPem)
  if (parsed.issuer !== ca.subject) {
    throw new CertmqError('CRL_INVALID', `${where}: issued by "${parsed.issuer}", not by the CA "${ca.subject}"`,
      { where, issuer: parsed.issuer, caSubject: ca.subject })
  }
  let valid = false
  try {
    valid = await parsed.crl.verify({ publicKey: ca })
  } catch {
    valid = false
  }
  if (!valid) {
    throw new CertmqError('CRL_INVALID', `${where}: the signature does not verify with the public key of the CA "${ca.subject}"`,
      { where, caSubject: ca.subject })
  }
}

function crlDerOfPem (pem: string, where: string): Buffer {
  let blocks
  try {
    blocks = splitPemBlocks(pem, where)
  } catch (err) {
    throw new CertmqError('CRL_INVALID', (err as Error).message, { where }, { cause: err })
  }
  if (blocks.length !== 1 || !CRL_LABELS.has(blocks[0]?.label ?? '')) {
    const found = blocks.map((block) => block.label).join(', ')
    throw new CertmqError('CRL_INVALID', `${where}: expected one -----BEGIN X509 CRL----- block, found ${found === '' ? 'none' : found}`,
      { where })
  }
  return (blocks[0] as { der: Buffer }).der
}
