/**
 * Proof that whoever registers a CA controls its private key (PRODUCT §2, as AWS IoT's
 * verification certificate): a certificate signed by the CA key whose subject CN is the
 * deployment's registration code, inside its validity window.
 */
import { X509Certificate } from 'node:crypto'
import { CertmqError } from '../errors.js'
import { isIssuedBy } from './chain.js'
import { inspectCertificate } from './inspect.js'
import { parseCertificatePem } from './pem.js'

const WHERE = 'verificationCertificatePem'

/** Throws PEM_INVALID for unreadable PEM, CA_VERIFICATION_FAILED when it proves nothing. */
export function verifyPossession (caDer: Uint8Array, verificationPem: string, registrationCode: string, nowMs: number): void {
  const { der } = parseCertificatePem(verificationPem, WHERE)
  const facts = inspectCertificate(der, WHERE)
  const fail = (what: string, details: Record<string, unknown> = {}): never => {
    throw new CertmqError('CA_VERIFICATION_FAILED', `${WHERE}: ${what}`, { field: WHERE, fingerprint: facts.fingerprint, ...details })
  }
  if (facts.commonName !== registrationCode) {
    fail('its subject CN is not the registration code (GET /api/v1/cas/registration-code)', { commonName: facts.commonName })
  }
  const ca = new X509Certificate(Buffer.from(caDer))
  if (!isIssuedBy(new X509Certificate(der), ca)) fail(`it is not signed by the key of the CA certificate (${ca.subject.replace(/\n/g, ', ')})`)
  if (nowMs < Date.parse(facts.notBefore) || nowMs > Date.parse(facts.notAfter)) {
    fail(`it is outside its validity window (${facts.notBefore} to ${facts.notAfter})`, { notBefore: facts.notBefore, notAfter: facts.notAfter })
  }
}
