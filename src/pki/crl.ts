/**
 * Certificate revocation lists (RFC 5280 §5) uploaded for a registered CA: parse PEM or DER,
 * check that the CA issued and signed it. Dates are judged by the domain (domain/crl.ts).
 * Parsed with @peculiar/x509 (STACK.md: CRLs are its job; the hot path never parses one).
 */
import { x509 } from './x509-setup.js'
import { AsnConvert } from '@peculiar/asn1-schema'
import { id_ce_authorityKeyIdentifier, id_ce_cRLNumber, id_ce_deltaCRLIndicator, id_ce_issuingDistributionPoint, id_ce_freshestCRL, id_pe_authorityInfoAccess, IssuingDistributionPoint } from '@peculiar/asn1-x509'
import { CertmqError } from '../errors.js'
import { nameKey } from './chain.js'
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
  checkScope(crl, where)
  // removeFromCRL (reason 8) belongs to delta CRLs, refused above; an entry with it revokes nothing
  const serials = crl.entries.filter((entry) => entry.reason !== x509.X509CrlReason.removeFromCRL).map((entry) => formatSerial(entry.serialNumber))
  return { der, issuer: crl.issuer, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, serials, crl }
}

/**
 * Checks that the CA whose certificate is `caPem` issued the CRL (issuer name = CA subject) and
 * signed it (signature verified with the CA's public key). Throws CRL_INVALID.
 */
export async function verifyCrlIssuer (parsed: ParsedCrl, caPem: string, where: string): Promise<void> {
  const ca = new x509.X509Certificate(caPem)
  // names compare as OpenSSL and the chain check compare them: case-folded, spaces collapsed
  if (nameKey(parsed.issuer) !== nameKey(ca.subject)) {
    throw new CertmqError('CRL_INVALID', `${where}: issued by "${parsed.issuer}", not by the CA "${ca.subject}"`,
      { where, issuer: parsed.issuer, caSubject: ca.subject })
  }
  let valid = false
  try {
    // the key alone, so the CRL's own signature algorithm is used (a CA certificate signed with
    // SHA-256 may sign its CRLs with SHA-512, or be an RSA CA under an EC root)
    valid = await parsed.crl.verify({ publicKey: ca.publicKey })
  } catch {
    valid = false
  }
  if (!valid) {
    throw new CertmqError('CRL_INVALID', `${where}: the signature does not verify with the public key of the CA "${ca.subject}"`,
      { where, caSubject: ca.subject })
  }
}

/** Extensions a complete CRL may carry that do not narrow what it covers. */
const FULL_SCOPE_EXTENSIONS = new Set([id_ce_authorityKeyIdentifier, id_ce_cRLNumber, id_ce_freshestCRL, id_pe_authorityInfoAccess])

/**
 * certmq replaces a CA's revoked set with each imported CRL, so the CRL must list every revoked
 * certificate of the CA (RFC 5280 §5.2): a delta CRL, or one whose issuing distribution point
 * narrows it to some reasons, to CA certificates or to another issuer, would un-revoke whatever it
 * leaves out. Such CRLs, and any critical extension certmq does not understand, are refused.
 */
function checkScope (crl: x509.X509Crl, where: string): void {
  for (const extension of crl.extensions) {
    if (extension.type === id_ce_deltaCRLIndicator) {
      throw new CertmqError('CRL_INVALID', `${where}: a delta CRL cannot be imported; import the complete CRL it refers to`, { where })
    }
    if (extension.type === id_ce_issuingDistributionPoint) {
      let idp: IssuingDistributionPoint
      try {
        idp = AsnConvert.parse(extension.value, IssuingDistributionPoint)
      } catch (err) {
        throw new CertmqError('CRL_INVALID', `${where}: unreadable issuing distribution point extension`, { where }, { cause: err })
      }
      // end-entity-only too: it would drop the intermediates an earlier complete CRL listed
      if (idp.onlySomeReasons !== undefined || idp.indirectCRL || idp.onlyContainsCACerts || idp.onlyContainsUserCerts || idp.onlyContainsAttributeCerts) {
        throw new CertmqError('CRL_INVALID', `${where}: the CRL covers only part of the CA's certificates (issuing distribution point); import a complete CRL`, { where })
      }
      continue
    }
    if (extension.critical && !FULL_SCOPE_EXTENSIONS.has(extension.type)) {
      throw new CertmqError('CRL_INVALID', `${where}: unsupported critical CRL extension ${extension.type}`, { where, extension: extension.type })
    }
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
    throw new CertmqError('CRL_INVALID', `${where}: expected one PEM block labelled X509 CRL, found ${found === '' ? 'none' : found}`,
      { where })
  }
  return (blocks[0] as { der: Buffer }).der
}
