/**
 * Fake but well-formed records for the RegistryStore contract suite: SHA-256-shaped ids, OpenSSL-
 * style serials, ISO instants that increase with every record made, and a PEM-shaped body that is
 * not a real certificate (the store never parses it).
 */
import { createHash } from 'node:crypto'
import { expect } from 'vitest'
import { CertmqError, type ErrorCode } from '../../src/errors.js'
import type { AssociatedClient, CertificateRecord } from '../../src/domain/certificate.js'
import type { CaRecord } from '../../src/domain/ca.js'

let made = 0
const EPOCH = Date.parse('2025-01-01T00:00:00.000Z')

/** A fresh SHA-256-shaped id (64 lowercase hex digits), different on every call. */
export function fakeFingerprint (label = 'record'): string {
  made += 1
  return createHash('sha256').update(`${label}:${made}:${process.pid}:${Math.random()}`).digest('hex')
}

/** An ISO instant `seconds` after 2025-01-01. */
export function instant (seconds: number): string {
  return new Date(EPOCH + seconds * 1000).toISOString()
}

function fakeSerial (fingerprint: string): string {
  return fingerprint.slice(0, 16).toUpperCase().replace(/^0+(?=.)/, '')
}

function fakePem (fingerprint: string): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(fingerprint, 'hex').toString('base64')}\n-----END CERTIFICATE-----\n`
}

export function makeCa (overrides: Partial<CaRecord> = {}): CaRecord {
  const id = overrides.id ?? fakeFingerprint('ca')
  const n = made
  const commonName = overrides.commonName ?? `Fleet CA ${n}`
  return {
    id,
    fingerprint: id,
    subject: `CN=${commonName},O=Example Fleet`,
    commonName,
    serialNumber: fakeSerial(id),
    status: 'active',
    registrationMode: 'manual',
    autoActivate: false,
    description: `test CA ${n}`,
    builtin: false,
    notBefore: instant(0),
    notAfter: instant(10 * 365 * 86_400),
    certificatePem: fakePem(id),
    hosts: [],
    createdAt: instant(n),
    updatedAt: instant(n),
    ...overrides
  }
}

export function makeCertificate (ca: Pick<CaRecord, 'id' | 'subject'>, overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  const id = overrides.id ?? fakeFingerprint('cert')
  const n = made
  const commonName = overrides.commonName ?? `device-${n}`
  const organizationalUnit = overrides.organizationalUnit ?? 'vehicles'
  return {
    id,
    fingerprint: id,
    serialNumber: fakeSerial(id),
    subject: `CN=${commonName},OU=${organizationalUnit},O=Example Fleet`,
    issuer: ca.subject,
    commonName,
    organizationalUnit,
    organization: 'Example Fleet',
    notBefore: instant(0),
    notAfter: instant(365 * 86_400),
    keyType: 'EC P-256',
    isCa: false,
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'],
    status: 'active',
    source: 'manual',
    caId: ca.id,
    clientId: null,
    certificatePem: fakePem(id),
    createdAt: instant(n),
    updatedAt: instant(n),
    ...overrides
  }
}

export function makeClient (clientId: string, node: string, at: string, overrides: Partial<AssociatedClient> = {}): AssociatedClient {
  return { clientId, connected: true, remoteAddress: '192.0.2.10', node, connectedAt: at, lastSeenAt: at, ...overrides }
}

/** Awaits `promise`, expects it to reject with a CertmqError of `code`, and returns that error. */
export async function rejectsWith (promise: Promise<unknown>, code: ErrorCode): Promise<CertmqError> {
  let outcome: unknown
  try {
    outcome = await promise
  } catch (err) {
    expect(err).toBeInstanceOf(CertmqError)
    expect((err as CertmqError).code).toBe(code)
    return err as CertmqError
  }
  return expect.fail(`expected ${code}, but the call succeeded with ${JSON.stringify(outcome)?.slice(0, 200)}`)
}

/** Ids in ascending order, the order listCertificates returns them in. */
export function sortedIds (records: ReadonlyArray<{ id: string }>): string[] {
  return records.map((record) => record.id).sort()
}
