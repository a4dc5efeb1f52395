/**
 * TrustStore.issuerVerdict runs on every admitted CONNECT (sessionVerdict): for a device under an
 * intermediate registered beneath a registered root, the usual enterprise layout, it must decide
 * without allocating anything per call.
 */
import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrustStore } from '../../../src/auth/trust-store.js'
import type { CaRecord } from '../../../src/domain/ca.js'
import { formatSerial } from '../../../src/pki/inspect.js'
import type { RegistryStore } from '../../../src/store/ports.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa } from '../../helpers/openssl.js'

let pki: OpenSslPki
let root: OpenSslCa
let intermediate: OpenSslCa
let lower: OpenSslCa

beforeAll(async () => {
  pki = await OpenSslPki.create()
  root = await pki.ca('iv-root', { cn: 'IV Root' })
  intermediate = await pki.intermediate('iv-int', root, { cn: 'IV Intermediate' })
  lower = await pki.intermediate('iv-lower', intermediate, { cn: 'IV Lower' })
})

afterAll(async () => {
  await pki?.cleanup()
})

function record (pem: string, status: CaRecord['status'] = 'active'): CaRecord {
  const cert = new X509Certificate(pem)
  const id = fingerprintOf(pem)
  return {
    id,
    fingerprint: id,
    subject: cert.subject,
    commonName: '',
    serialNumber: formatSerial(cert.serialNumber),
    status,
    registrationMode: 'auto',
    autoActivate: true,
    description: '',
    builtin: false,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    certificatePem: pem,
    hosts: [],
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString()
  }
}

async function trustOf (records: CaRecord[]): Promise<TrustStore> {
  const store = { listCas: async () => records, getCrl: async () => undefined } as unknown as RegistryStore
  const trust = new TrustStore(store)
  await trust.refresh()
  return trust
}

/** How many Sets `body` constructs (the per-call allocation of a visited set). */
function setsMadeBy (body: () => void): number {
  const RealSet = globalThis.Set
  let made = 0
  globalThis.Set = class CountingSet<T> extends RealSet<T> {
    constructor (values?: Iterable<T> | null) {
      super(values)
      made++
    }
  } as SetConstructor
  try {
    body()
  } finally {
    globalThis.Set = RealSet
  }
  return made
}

describe('TrustStore.issuerVerdict', () => {
  it('allocates nothing for an intermediate registered under a registered root, and still refuses when the root does', async () => {
    const trust = await trustOf([record(root.pem), record(intermediate.pem)])
    const ca = trust.get(fingerprintOf(intermediate.pem))!
    expect(ca.issuers).toEqual([fingerprintOf(root.pem)])
    expect(setsMadeBy(() => {
      for (let i = 0; i < 100; i++) expect(trust.issuerVerdict(ca, undefined)).toBeUndefined()
    })).toBe(0)

    const refused = await trustOf([record(root.pem, 'inactive'), record(intermediate.pem)])
    expect(refused.issuerVerdict(refused.get(fingerprintOf(intermediate.pem))!, undefined)).toBe('ca_inactive')
  })

  it('walks two registered levels up: a deactivated root refuses the devices under the lowest intermediate', async () => {
    const admitted = await trustOf([record(root.pem), record(intermediate.pem), record(lower.pem)])
    expect(admitted.issuerVerdict(admitted.get(fingerprintOf(lower.pem))!, undefined)).toBeUndefined()
    const refused = await trustOf([record(root.pem, 'inactive'), record(intermediate.pem), record(lower.pem)])
    expect(refused.issuerVerdict(refused.get(fingerprintOf(lower.pem))!, undefined)).toBe('ca_inactive')
  })
})
