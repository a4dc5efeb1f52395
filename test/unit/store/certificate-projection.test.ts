/**
 * The embedded store's search projection against a brute-force reference: every query walks its
 * own shortcut (notAfter range, common-name range, candidate ids, cursor seek, direction), and
 * each must give exactly the pages that "filter everything, sort everything, slice" gives.
 */
import { describe, expect, it } from 'vitest'
import type { CertificateRecord } from '../../../src/domain/certificate.js'
import { compareAscending, summarizeCertificate, type CertificateQuery } from '../../../src/domain/query.js'
import { compileCertificateQuery } from '../../../src/domain/query-compile.js'
import { CertificateProjection } from '../../../src/store/embedded/certificate-projection.js'
import { makeCa, makeCertificate } from '../../contract/registry-store-records.js'

const NOW = Date.parse('2026-06-01T00:00:00.000Z')
const DAY = 86_400_000

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
}

function reference (records: CertificateRecord[], query: Omit<CertificateQuery, 'limit' | 'cursor'>): string[] {
  const compiled = compileCertificateQuery({ ...query, limit: 1 })
  return records.map(summarizeCertificate).filter(compiled.matches).sort(compiled.compare).map((s) => s.id)
}

function pages (projection: CertificateProjection, query: Omit<CertificateQuery, 'limit' | 'cursor'>, limit: number):
  { ids: string[], totals: number[] } {
  const ids: string[] = []
  const totals: number[] = []
  let cursor: string | undefined
  for (let guard = 0; guard < 1000; guard++) {
    const page = projection.search({ ...query, limit, ...(cursor === undefined ? {} : { cursor }) })
    ids.push(...page.items)
    totals.push(page.total)
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  return { ids, totals }
}

describe('CertificateProjection', () => {
  const next = random(42)
  const ca = makeCa()
  const otherCa = makeCa()
  const records: CertificateRecord[] = Array.from({ length: 600 }, (_, i) => makeCertificate(next() < 0.8 ? ca : otherCa, {
    commonName: `SN${String(Math.floor(next() * 400)).padStart(6, '0')}`,
    status: next() < 0.7 ? 'active' : 'inactive',
    notAfter: new Date(NOW + Math.floor((next() * 80 - 20)) * DAY).toISOString(),
    createdAt: new Date(NOW - Math.floor(next() * 50) * 1000).toISOString(),
    clientId: i % 3 === 0 ? `car-${i}` : null
  }))
  const projection = new CertificateProjection()
  projection.rebuild(records.slice(0, 300))
  for (const record of records.slice(300)) projection.put(record)
  const now = new Date(NOW).toISOString()

  const queries: Array<Omit<CertificateQuery, 'limit' | 'cursor'>> = [
    {},
    { sort: 'notAfter' },
    { sort: 'notAfter', order: 'desc', status: ['active'] },
    { expiringWithinDays: 30, now, sort: 'notAfter' },
    { expiringWithinDays: 30, now, sort: 'notAfter', order: 'desc' },
    { expiringWithinDays: 10, now, sort: 'commonName' },
    { expired: true, now, order: 'desc' },
    { commonName: 'SN0001*', sort: 'notAfter' },
    { commonName: 'SN0001*', sort: 'commonName', order: 'desc' },
    { commonName: 'SN0001*', expiringWithinDays: 40, now, status: ['active'], sort: 'createdAt' },
    { commonName: 'SN000123' },
    { commonName: 'SN000123', sort: 'commonName' },
    { commonName: '*', sort: 'updatedAt', order: 'desc' },
    { notAfterFrom: new Date(NOW).toISOString(), notAfterTo: new Date(NOW + 5 * DAY).toISOString(), sort: 'commonName' },
    { notAfterFrom: new Date(NOW + 50 * DAY).toISOString(), notAfterTo: new Date(NOW).toISOString() }
  ]

  for (const query of queries) {
    it(`gives the reference pages and totals for ${JSON.stringify(query)}`, () => {
      const expected = reference(records, query)
      for (const limit of [1, 7, 500]) {
        const { ids, totals } = pages(projection, query, limit)
        expect(ids).toEqual(expected)
        for (const total of totals) expect(total).toBe(expected.length)
      }
    })
  }

  it('uses its exact indexes (CA: a large candidate set; Client ID: a single one) with the same result', () => {
    const query = { caId: otherCa.id, sort: 'notAfter' as const, order: 'desc' as const }
    expect(pages(projection, query, 9).ids).toEqual(reference(records, query))
    expect(projection.idsOfCa(otherCa.id).size).toBe(records.filter((r) => r.caId === otherCa.id).length)
    const one = records.find((r) => r.clientId !== null) as CertificateRecord
    const byClient = { clientId: one.clientId as string }
    expect(pages(projection, byClient, 5).ids).toEqual([one.id])
    expect(projection.idOfClientId(one.clientId as string)).toBe(one.id)
  })

  it('follows a status change and a removal in every order', () => {
    const local = new CertificateProjection()
    local.rebuild(records)
    const changed = { ...records[10] as CertificateRecord, status: 'revoked' as const, updatedAt: new Date(NOW + DAY).toISOString() }
    local.put(changed)
    local.remove((records[11] as CertificateRecord).id)
    const now = [...records.slice(0, 10), changed, ...records.slice(12)]
    for (const query of [{ status: ['revoked' as const] }, { sort: 'updatedAt' as const, order: 'desc' as const }, { sort: 'commonName' as const }]) {
      expect(pages(local, query, 50).ids).toEqual(reference(now, query))
    }
    expect(local.size).toBe(records.length - 1)
    expect([...local.summaries()].sort(compareAscending('id')).map((s) => s.id)).toEqual(now.map((r) => r.id).sort())
  })

  it('removes many at once (a CA deleted with its certificates) as one by one would', () => {
    for (const count of [3, 200]) {
      const local = new CertificateProjection()
      local.rebuild(records)
      const gone = records.slice(0, count).map((r) => r.id)
      local.removeAll([...gone, 'f'.repeat(64)])
      const left = records.slice(count)
      for (const query of [{}, { sort: 'notAfter' as const }, { sort: 'commonName' as const, order: 'desc' as const }]) {
        expect(pages(local, query, 100).ids).toEqual(reference(left, query))
      }
      expect(local.size).toBe(left.length)
    }
  })
})
