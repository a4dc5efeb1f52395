import { describe, expect, it } from 'vitest'
import { decideCertificate, recheckSession, type ConnectFacts } from '../../../src/domain/connect/decide.js'
import { connackCodeFor, REJECT_REASONS } from '../../../src/domain/connect/reasons.js'
import type { CaRecord } from '../../../src/domain/ca.js'
import type { CertificateRecord } from '../../../src/domain/certificate.js'

const NOW = Date.parse('2026-06-01T00:00:00Z')

const ca: CaRecord = {
  id: 'ca1', fingerprint: 'ca1', subject: 'CN=Fleet CA', commonName: 'Fleet CA', serialNumber: '01', status: 'active',
  registrationMode: 'manual', autoActivate: true, description: '', builtin: false,
  notBefore: '2020-01-01T00:00:00Z', notAfter: '2040-01-01T00:00:00Z', certificatePem: '', hosts: [], createdAt: '', updatedAt: ''
}

function record (status: CertificateRecord['status']): CertificateRecord {
  return {
    id: 'fp', fingerprint: 'fp', serialNumber: '0A', subject: 'CN=dev', issuer: 'CN=Fleet CA', commonName: 'dev',
    organizationalUnit: '', organization: '', notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z',
    keyType: 'EC P-256', isCa: false, keyUsage: ['digitalSignature'], extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'],
    status, source: 'manual', caId: 'ca1', clientId: null, certificatePem: '', createdAt: '', updatedAt: ''
  }
}

function facts (over: Partial<ConnectFacts> = {}): ConnectFacts {
  return {
    nowMs: NOW,
    ca,
    servername: undefined,
    usage: { isCa: false, keyUsage: ['digitalSignature'], extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'] },
    notBeforeMs: Date.parse('2026-01-01T00:00:00Z'),
    notAfterMs: Date.parse('2027-01-01T00:00:00Z'),
    denied: false,
    record: record('active'),
    ...over
  }
}

describe('§1 CONNECT decision', () => {
  it('admits an active registered certificate under an active CA', () => {
    expect(decideCertificate(facts())).toMatchObject({ kind: 'admit' })
  })
  it('rejects a certificate that chains to no registered CA with unknown_ca', () => {
    expect(decideCertificate(facts({ ca: undefined }))).toEqual({ kind: 'reject', reason: 'unknown_ca' })
  })
  it('rejects under a deactivated CA with ca_inactive, before looking at the certificate', () => {
    expect(decideCertificate(facts({ ca: { ...ca, status: 'inactive' }, notAfterMs: 0 }))).toEqual({ kind: 'reject', reason: 'ca_inactive' })
  })
  it('rejects an expired certificate with expired', () => {
    expect(decideCertificate(facts({ notAfterMs: NOW - 1 }))).toEqual({ kind: 'reject', reason: 'expired' })
  })
  it('rejects a certificate not yet valid with not_yet_valid', () => {
    expect(decideCertificate(facts({ notBeforeMs: NOW + 1 }))).toEqual({ kind: 'reject', reason: 'not_yet_valid' })
  })
  it('accepts the exact ends of the validity window', () => {
    expect(decideCertificate(facts({ notBeforeMs: NOW }))).toMatchObject({ kind: 'admit' })
    expect(decideCertificate(facts({ notAfterMs: NOW }))).toMatchObject({ kind: 'admit' })
  })
  it.each([
    ['a CA certificate', { isCa: true, keyUsage: null, extendedKeyUsage: null }],
    ['keyUsage without digitalSignature', { isCa: false, keyUsage: ['keyEncipherment'], extendedKeyUsage: null }],
    ['extendedKeyUsage without clientAuth', { isCa: false, keyUsage: null, extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] }]
  ])('rejects %s with not_client_cert', (_name, usage) => {
    expect(decideCertificate(facts({ usage }))).toEqual({ kind: 'reject', reason: 'not_client_cert' })
  })
  it('accepts a leaf without keyUsage and extendedKeyUsage, as OpenSSL does', () => {
    expect(decideCertificate(facts({ usage: { isCa: false, keyUsage: null, extendedKeyUsage: null } }))).toMatchObject({ kind: 'admit' })
  })
  it('accepts anyExtendedKeyUsage', () => {
    expect(decideCertificate(facts({ usage: { isCa: false, keyUsage: null, extendedKeyUsage: ['2.5.29.37.0'] } }))).toMatchObject({ kind: 'admit' })
  })
  it('rejects a denied (revoked then deleted) certificate with revoked even under an auto CA', () => {
    expect(decideCertificate(facts({ denied: true, record: undefined, ca: { ...ca, registrationMode: 'auto' } })))
      .toEqual({ kind: 'reject', reason: 'revoked' })
  })
  it.each([
    ['inactive', 'inactive'],
    ['pending_activation', 'pending_activation'],
    ['revoked', 'revoked']
  ] as const)('rejects a registered %s certificate with reason %s', (status, reason) => {
    expect(decideCertificate(facts({ record: record(status) }))).toEqual({ kind: 'reject', reason })
  })
  it('rejects an unregistered certificate under a manual CA with unregistered', () => {
    expect(decideCertificate(facts({ record: undefined }))).toEqual({ kind: 'reject', reason: 'unregistered' })
  })
  it('asks to register an unregistered certificate under an auto CA as active when the CA auto-activates', () => {
    expect(decideCertificate(facts({ record: undefined, ca: { ...ca, registrationMode: 'auto' } })))
      .toEqual({ kind: 'register', status: 'active' })
  })
  it('asks to register as pending_activation when the CA does not auto-activate', () => {
    expect(decideCertificate(facts({ record: undefined, ca: { ...ca, registrationMode: 'auto', autoActivate: false } })))
      .toEqual({ kind: 'register', status: 'pending_activation' })
  })
})

describe('§1 CONNACK codes', () => {
  it('answers 2 for client_id_mismatch, 3 for rate_limited and 5 for every certificate refusal', () => {
    expect(connackCodeFor('client_id_mismatch')).toBe(2)
    expect(connackCodeFor('rate_limited')).toBe(3)
    for (const reason of ['no_certificate', 'unknown_ca', 'ca_inactive', 'expired', 'not_yet_valid', 'not_client_cert',
      'unregistered', 'inactive', 'pending_activation', 'revoked'] as const) {
      expect(REJECT_REASONS[reason]).toBe(5)
    }
  })
})

describe('§2 SNI host binding and CRLs in the decision', () => {
  const bound: CaRecord = { ...ca, hosts: ['fleet-a.example', 'fleet-b.example'] }
  it('admits under a bound CA when the server name is one of its hosts', () => {
    expect(decideCertificate(facts({ ca: bound, servername: 'fleet-b.example' }))).toMatchObject({ kind: 'admit' })
  })
  it('rejects under a bound CA with ca_host_mismatch for another server name, or none', () => {
    expect(decideCertificate(facts({ ca: bound, servername: 'other.example' }))).toEqual({ kind: 'reject', reason: 'ca_host_mismatch' })
    expect(decideCertificate(facts({ ca: bound, servername: undefined }))).toEqual({ kind: 'reject', reason: 'ca_host_mismatch' })
    expect(connackCodeFor('ca_host_mismatch')).toBe(5)
  })
  it('admits under an unbound CA whatever the server name', () => {
    expect(decideCertificate(facts({ servername: 'anything.example' }))).toMatchObject({ kind: 'admit' })
  })
  it('checks the binding before the certificate itself, after the CA status', () => {
    expect(decideCertificate(facts({ ca: bound, servername: 'x.example', notAfterMs: 0 }))).toEqual({ kind: 'reject', reason: 'ca_host_mismatch' })
    expect(decideCertificate(facts({ ca: { ...bound, status: 'inactive' }, servername: 'x.example' }))).toEqual({ kind: 'reject', reason: 'ca_inactive' })
  })
  it('treats a CRL hit (denied) as revoked, as the deny list is (which serials hit: test/unit/auth/crl-match.test.ts)', () => {
    expect(decideCertificate(facts({ denied: true }))).toEqual({ kind: 'reject', reason: 'revoked' })
  })
  it('rechecks a live session against its CA: status, binding, CRL', () => {
    expect(recheckSession(ca, undefined, false)).toBeUndefined()
    expect(recheckSession({ ...ca, status: 'inactive' }, undefined, false)).toBe('ca_inactive')
    expect(recheckSession(bound, 'fleet-a.example', false)).toBeUndefined()
    expect(recheckSession(bound, 'fleet-c.example', false)).toBe('ca_host_mismatch')
    expect(recheckSession(ca, undefined, true)).toBe('revoked')
  })
})
