import { describe, expect, it } from 'vitest'
import { CertmqError } from '../../../src/errors.js'
import { DAY_MS, type CertificateQuery, type CertificateSummary } from '../../../src/domain/query.js'
import { compileCertificateQuery, effectiveNotAfter, takeSummaryPage } from '../../../src/domain/query-compile.js'
import { decodeCursor, encodeCursor, queryHash } from '../../../src/domain/query-cursor.js'
import { keySizeOf } from '../../../src/domain/certificate.js'

const NOW = Date.parse('2026-06-01T12:00:00.000Z')
const now = new Date(NOW).toISOString()

let n = 0
function summary (overrides: Partial<CertificateSummary> = {}): CertificateSummary {
  n++
  return {
    id: n.toString(16).padStart(64, '0'),
    commonName: `SN${String(n).padStart(6, '0')}`,
    organizationalUnit: 'trucks',
    serialNumber: 'A1',
    status: 'active',
    caId: 'ca1',
    clientId: null,
    source: 'manual',
    notBefore: NOW - 10 * DAY_MS,
    notAfter: NOW + 100 * DAY_MS,
    createdAt: NOW - n,
    updatedAt: NOW - n,
    ...overrides
  }
}

function validationField (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CertmqError)
    expect((err as CertmqError).code).toBe('VALIDATION_FAILED')
    return (err as CertmqError).details['field']
  }
  return expect.fail('expected VALIDATION_FAILED')
}

function matching (query: Omit<CertificateQuery, 'limit'>, items: CertificateSummary[]): CertificateSummary[] {
  const compiled = compileCertificateQuery({ limit: 500, ...query })
  return items.filter(compiled.matches)
}

describe('PRODUCT §3 expired and expiring-within-days boundaries (valid through notAfter inclusive, RFC 5280 §4.1.2.5)', () => {
  const atNow = summary({ notAfter: NOW })
  const msBefore = summary({ notAfter: NOW - 1 })
  const secondBefore = summary({ notAfter: NOW - 1000 })
  const at30Days = summary({ notAfter: NOW + 30 * DAY_MS })
  const justAfter30Days = summary({ notAfter: NOW + 30 * DAY_MS + 1 })
  const all = [atNow, msBefore, secondBefore, at30Days, justAfter30Days]

  it('expired=true is notAfter strictly before now; a certificate whose notAfter is now is not expired', () => {
    expect(matching({ expired: true, now }, all)).toEqual([msBefore, secondBefore])
    expect(matching({ expired: false, now }, all)).toEqual([atNow, at30Days, justAfter30Days])
  })

  it('expiringWithinDays=N is not yet expired and notAfter <= now + N days, both ends inclusive', () => {
    expect(matching({ expiringWithinDays: 30, now }, all)).toEqual([atNow, at30Days])
    expect(matching({ expiringWithinDays: 0, now }, all)).toEqual([atNow])
    expect(effectiveNotAfter({ limit: 1, expiringWithinDays: 30, now })).toEqual({ from: NOW, to: NOW + 30 * DAY_MS })
  })

  it('intersects expired / expiring with explicit notAfter bounds, which are inclusive', () => {
    const from = new Date(NOW - 1000).toISOString()
    expect(matching({ notAfterFrom: from, expired: true, now }, all)).toEqual([msBefore, secondBefore])
    expect(matching({ notAfterTo: new Date(NOW).toISOString(), expiringWithinDays: 30, now }, all)).toEqual([atNow])
    expect(matching({ expired: true, expiringWithinDays: 30, now }, all)).toEqual([])
  })

  it('refuses expired or expiringWithinDays without a now (the domain has no clock)', () => {
    expect(validationField(() => compileCertificateQuery({ limit: 1, expired: true }))).toBe('now')
    expect(validationField(() => compileCertificateQuery({ limit: 1, expiringWithinDays: -1, now }))).toBe('expiringWithinDays')
  })
})

describe('filters alone and combined', () => {
  it('applies notBefore ranges inclusively and combines every filter with AND', () => {
    const a = summary({ notBefore: NOW, status: 'active', organizationalUnit: 'buses', commonName: 'SN001' })
    const b = summary({ notBefore: NOW + 1, status: 'inactive', commonName: 'SN002' })
    const c = summary({ notBefore: NOW - 1, status: 'revoked', clientId: 'car-1', source: 'auto', serialNumber: 'FF01', caId: 'ca2' })
    const all = [a, b, c]
    const at = new Date(NOW).toISOString()
    expect(matching({ notBeforeFrom: at }, all)).toEqual([a, b])
    expect(matching({ notBeforeTo: at }, all)).toEqual([a, c])
    expect(matching({ notBeforeFrom: at, notBeforeTo: at }, all)).toEqual([a])
    expect(matching({ commonName: 'SN00*', status: ['active', 'inactive'], notBeforeFrom: at }, all)).toEqual([a, b])
    expect(matching({ commonName: 'SN00*', organizationalUnit: 'buses' }, all)).toEqual([a])
    expect(matching({ serialNumber: '00:ff:01', clientId: 'car-1', source: 'auto', caId: 'ca2' }, all)).toEqual([c])
    expect(matching({ status: [] }, all)).toEqual(all)
  })
})

describe('order and cursor', () => {
  const items = [
    summary({ notAfter: NOW + 3, commonName: 'b' }),
    summary({ notAfter: NOW + 1, commonName: 'a' }),
    summary({ notAfter: NOW + 1, commonName: 'c' }),
    summary({ notAfter: NOW + 2, commonName: 'a' })
  ]

  function walk (query: Omit<CertificateQuery, 'limit' | 'cursor'>, limit: number): { ids: string[]; totals: number[] } {
    const compiled0 = compileCertificateQuery({ ...query, limit })
    const ordered = [...items].sort(compiled0.compare)
    const ids: string[] = []
    const totals: number[] = []
    let cursor: string | undefined
    for (let guard = 0; guard < 20; guard++) {
      const page = takeSummaryPage(ordered, compileCertificateQuery({ ...query, limit, ...(cursor === undefined ? {} : { cursor }) }))
      ids.push(...page.items.map((s) => s.id))
      totals.push(page.total)
      if (page.nextCursor === null) break
      cursor = page.nextCursor
    }
    return { ids, totals }
  }

  it('sorts by the key, ties broken by id in the same direction, and pages through every item once', () => {
    const [x, y, z, w] = items.map((s) => s.id) as [string, string, string, string]
    expect(walk({ sort: 'notAfter' }, 1).ids).toEqual([y, z, w, x])
    expect(walk({ sort: 'notAfter', order: 'desc' }, 3).ids).toEqual([x, w, z, y])
    expect(walk({ sort: 'commonName' }, 2).ids).toEqual([y, w, x, z])
    expect(walk({ sort: 'commonName', order: 'desc' }, 2)).toEqual({ ids: [z, x, w, y], totals: [4, 4] })
    expect(walk({}, 3).ids).toEqual([x, y, z, w].sort())
  })

  it('binds a cursor to the filters and sort: another query gets 400 naming cursor, the page size may change', () => {
    const first = takeSummaryPage([...items].sort(compileCertificateQuery({ limit: 1, sort: 'notAfter' }).compare),
      compileCertificateQuery({ limit: 1, sort: 'notAfter' }))
    const cursor = first.nextCursor as string
    expect(() => compileCertificateQuery({ limit: 3, sort: 'notAfter', cursor })).not.toThrow()
    expect(validationField(() => compileCertificateQuery({ limit: 1, sort: 'notAfter', order: 'desc', cursor }))).toBe('cursor')
    expect(validationField(() => compileCertificateQuery({ limit: 1, sort: 'createdAt', cursor }))).toBe('cursor')
    expect(validationField(() => compileCertificateQuery({ limit: 1, sort: 'notAfter', status: ['active'], cursor }))).toBe('cursor')
    expect(validationField(() => compileCertificateQuery({ limit: 1, cursor: 'bm90IGEgY3Vyc29y' }))).toBe('cursor')
    expect(validationField(() => compileCertificateQuery({ limit: 1, cursor: '!!' }))).toBe('cursor')
  })

  it('hashes the same search the same way whatever the status order or serial spelling, and ignores limit and now', () => {
    expect(queryHash({ limit: 1, status: ['active', 'revoked'], serialNumber: '00:a1' }))
      .toBe(queryHash({ limit: 500, status: ['revoked', 'active'], serialNumber: 'A1', now }))
    expect(queryHash({ limit: 1, commonName: 'a' })).not.toBe(queryHash({ limit: 1, organizationalUnit: 'a' }))
  })

  it('round-trips a position through an opaque cursor', () => {
    const cursor = encodeCursor('0000abcd', { value: 17, id: 'ab'.repeat(32) })
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor(cursor, '0000abcd', 'notAfter')).toEqual({ value: 17, id: 'ab'.repeat(32) })
    expect(validationField(() => decodeCursor(cursor, '0000abcd', 'commonName'))).toBe('cursor')
  })

  it('refuses a page size outside 1..500', () => {
    for (const limit of [0, 501, 2.5]) expect(validationField(() => compileCertificateQuery({ limit }))).toBe('limit')
  })
})

describe('key size from the key type', () => {
  it.each([['EC P-256', 256], ['EC P-384', 384], ['RSA 2048', 2048], ['RSA 4096', 4096], ['Ed25519', 256], ['Ed448', 448], ['unknown', null]])(
    '%s → %s', (keyType, size) => { expect(keySizeOf(keyType)).toBe(size) })
})
