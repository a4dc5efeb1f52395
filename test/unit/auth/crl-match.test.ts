/** TrustStore.onCrl: which certificates a CA's CRL revokes (the leaf's own serial, or the intermediate it chains through). */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { TrustStore, type TrustedCa } from '../../../src/auth/trust-store.js'
import { nameKey } from '../../../src/pki/chain.js'
import { makeCa } from '../../contract/registry-store-records.js'

function trusted (revoked: string[]): TrustedCa {
  const record = { ...makeCa(), subject: 'CN=Fleet Root,O=Acme' }
  // onCrl never looks at the certificate object; any real one stands in for it
  const certificate = undefined as unknown as X509Certificate
  return {
    record,
    certificate,
    revoked: new Set(revoked),
    issuers: [],
    subjectKey: nameKey(record.subject),
    constraints: { subject: record.subject, pathLength: undefined, unsupported: undefined, extendedKeyUsage: null, selfIssued: true },
    notBeforeMs: Date.parse(record.notBefore),
    notAfterMs: Date.parse(record.notAfter)
  }
}

describe('TrustStore.onCrl', () => {
  it('revokes a serial the CA issued directly, comparing the issuer name as OpenSSL does (case, spacing)', () => {
    const ca = trusted(['0A1B'])
    expect(TrustStore.onCrl(ca, { serialNumber: '0A1B', issuer: 'CN=Fleet Root,O=Acme' })).toBe(true)
    expect(TrustStore.onCrl(ca, { serialNumber: '0A1B', issuer: 'cn=fleet  root,o=ACME' })).toBe(true)
  })

  it('does not match the same serial issued by someone else (serials are unique per issuer only)', () => {
    expect(TrustStore.onCrl(trusted(['0A1B']), { serialNumber: '0A1B', issuer: 'CN=Intermediate,O=Acme' })).toBe(false)
  })

  it('revokes a certificate whose recorded intermediate is on the CRL, whatever its own serial', () => {
    const ca = trusted(['77'])
    expect(TrustStore.onCrl(ca, { serialNumber: '0A1B', issuer: 'CN=Intermediate,O=Acme', viaSerial: '77' })).toBe(true)
    expect(TrustStore.onCrl(ca, { serialNumber: '0A1B', issuer: 'CN=Intermediate,O=Acme', viaSerial: '78' })).toBe(false)
  })

  it('revokes nothing for a CA without a CRL', () => {
    expect(TrustStore.onCrl(trusted([]), { serialNumber: '0A1B', issuer: 'CN=Fleet Root,O=Acme', viaSerial: '0A1B' })).toBe(false)
  })
})
