/** ConnectService.fingerprintOf: the id a CONNECT looks the certificate up by must be the id it was registered under. */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConnectService } from '../../../src/auth/connect-service.js'
import { createCaCertificate } from '../../../src/pki/certificate-authority.js'
import { inspectCertificate } from '../../../src/pki/inspect.js'

describe('ConnectService.fingerprintOf', () => {
  it.each(['EC-P256', 'RSA-2048'] as const)('gives the registry id of a %s certificate: lowercase SHA-256 hex of its DER, as OpenSSL prints it without colons', async (keyAlgorithm) => {
    const { certificatePem } = await createCaCertificate({ commonName: `fingerprint ${keyAlgorithm}`, validityDays: 1, keyAlgorithm })
    const leaf = new X509Certificate(certificatePem)
    const id = ConnectService.fingerprintOf(leaf)
    expect(id).toMatch(/^[0-9a-f]{64}$/)
    expect(id).toBe(inspectCertificate(leaf.raw).fingerprint)
    expect(id).toBe(leaf.fingerprint256.replaceAll(':', '').toLowerCase())
  })
})
