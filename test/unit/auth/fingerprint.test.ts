/** The id a CONNECT looks a certificate up by must be the id it was registered under, on every Node 20 the engines allow. */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConnectService, fingerprintFromColonHex } from '../../../src/auth/connect-service.js'
import { createCaCertificate } from '../../../src/pki/certificate-authority.js'
import { fingerprintOfDer } from '../../../src/pki/inspect.js'
import { parseCertificatePem } from '../../../src/pki/pem.js'

describe('the certificate id on the CONNECT path', () => {
  it.each(['EC-P256', 'RSA-2048'] as const)('is the id registration gives a %s certificate (lowercase SHA-256 hex of the DER), both with crypto.hash and from fingerprint256 (Node < 20.12)', async (keyAlgorithm) => {
    const { certificatePem } = await createCaCertificate({ commonName: `fingerprint ${keyAlgorithm}`, validityDays: 1, keyAlgorithm })
    const registered = fingerprintOfDer(parseCertificatePem(certificatePem, 'test').der)
    expect(registered).toMatch(/^[0-9a-f]{64}$/)
    expect(ConnectService.fingerprintOf(new X509Certificate(certificatePem))).toBe(registered)
    expect(fingerprintFromColonHex(new X509Certificate(certificatePem))).toBe(registered)
  })
})
