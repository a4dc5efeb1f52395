/**
 * RegistryStore contract, certificate search at scale (PRODUCT §3): sort keys in both directions
 * with cursors that survive inserts and deletes between pages, validity ranges, `expired` and
 * `expiringWithinDays` at a given now, the total of matches, and cursors bound to their query.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type { CertificateRecord } from '../../src/domain/certificate.js'
import type { CaRecord } from '../../src/domain/ca.js'
import { CERTIFICATE_SORT_KEYS, DAY_MS, type CertificateQuery, type CertificateSortKey } from '../../src/domain/query.js'
import type { StoreUnderTest } from './registry-store.contract.js'
import { instant, makeCa, makeCertificate, rejectsWith } from './registry-store-records.js'

const NOW = '2026-06-01T12:00:00.000Z'
const NOW_MS = Date.parse(NOW)

function at (ms: number): string {
  return new Date(ms).toISOString()
}

/** Few distinct values, so ties (broken by id) are common. */
function spread (i: number): Partial<CertificateRecord> {
  return {
    commonName: `SN${String(i % 7).padStart(6, '0')}`,
    notAfter: at(NOW_MS + (i % 5) * DAY_MS),
    createdAt: instant(1000 + (i % 4)),
    updatedAt: instant(2000 + (i % 3))
  }
}

function sortValue (record: CertificateRecord, key: CertificateSortKey): string | number {
  return key === 'commonName' ? record.commonName : Date.parse(record[key])
}

export function describeSearchContract (subject: StoreUnderTest): void {
  describe('search', () => {
    let ca: CaRecord
    let made = 0
    beforeEach(async () => {
      ca = makeCa()
      await subject.store.insertCa(ca, 10)
    })

    async function insert (count: number, overrides: Partial<CertificateRecord> = {}): Promise<CertificateRecord[]> {
      const records: CertificateRecord[] = []
      for (let i = 0; i < count; i++) {
        const record = makeCertificate(ca, { ...spread(made++), ...overrides })
        await subject.store.insertCertificate(record)
        records.push(record)
      }
      return records
    }

    async function ids (query: Omit<CertificateQuery, 'limit'>): Promise<string[]> {
      return (await subject.store.listCertificates({ limit: 500, ...query })).items.map((r) => r.id)
    }

    for (const key of CERTIFICATE_SORT_KEYS) {
      for (const order of ['asc', 'desc'] as const) {
        it(`sort=${key}&order=${order}: pages in order while certificates are added and deleted between pages, losing and repeating none`,
          async () => {
            const initial = await insert(25, { status: 'active' })
            const mustSee = new Set(initial.map((r) => r.id))
            const seen: CertificateRecord[] = []
            let cursor: string | undefined
            for (let page = 0; page < 60; page++) {
              const result = await subject.store.listCertificates({ status: ['active'], sort: key, order, limit: 4, cursor })
              seen.push(...result.items)
              if (result.nextCursor === null) break
              cursor = result.nextCursor
              // the last item of the page is the cursor's own position: deleting it must not matter
              const seenVictim = result.items[result.items.length - 1]
              if (seenVictim !== undefined) await subject.store.deleteCertificate(seenVictim.id, ['active'])
              const unseen = [...mustSee].find((id) => !seen.some((r) => r.id === id))
              if (unseen !== undefined) {
                await subject.store.deleteCertificate(unseen, ['active'])
                mustSee.delete(unseen)
              }
              await insert(2, { status: 'active' })
              await insert(1, { status: 'inactive' })
            }
            const seenIds = seen.map((r) => r.id)
            expect(new Set(seenIds).size).toBe(seenIds.length)
            for (const id of mustSee) expect(seenIds).toContain(id)
            const sign = order === 'asc' ? 1 : -1
            for (let i = 1; i < seen.length; i++) {
              const a = seen[i - 1] as CertificateRecord
              const b = seen[i] as CertificateRecord
              const va = sortValue(a, key)
              const vb = sortValue(b, key)
              const cmp = va < vb ? -1 : va > vb ? 1 : a.id < b.id ? -1 : 1
              expect(cmp * sign, `${key} ${order} at ${i}`).toBe(-1)
            }
          })
      }
    }

    it('counts every match in total, whatever the page size, and keeps it right after inserts and deletes', async () => {
      const active = await insert(7, { status: 'active' })
      await insert(3, { status: 'inactive' })
      const first = await subject.store.listCertificates({ status: ['active'], limit: 2 })
      expect(first.total).toBe(7)
      expect(first.items).toHaveLength(2)
      expect((await subject.store.listCertificates({ limit: 500 })).total).toBe(10)
      await subject.store.transitionCertificate(active[0]!.id, ['active'], 'inactive', instant(5000))
      expect((await subject.store.listCertificates({ status: ['active'], limit: 1 })).total).toBe(6)
      await subject.store.deleteCertificate(active[0]!.id, ['inactive'])
      expect((await subject.store.listCertificates({ limit: 1 })).total).toBe(9)
      expect((await subject.store.listCertificates({ commonName: 'nothing*', limit: 1 })).total).toBe(0)
    })

    it('follows a status change in the updatedAt order and in status filters', async () => {
      const [a, b] = await insert(2, { status: 'active', updatedAt: instant(10) })
      await subject.store.transitionCertificate(a!.id, ['active'], 'inactive', instant(20))
      expect(await ids({ sort: 'updatedAt', order: 'desc' })).toEqual([a!.id, b!.id])
      expect(await ids({ status: ['inactive'] })).toEqual([a!.id])
    })

    it('applies expired and expiringWithinDays at the given now, boundaries included as documented', async () => {
      const [atNow, msBefore, at30, after30] = [NOW_MS, NOW_MS - 1, NOW_MS + 30 * DAY_MS, NOW_MS + 30 * DAY_MS + 1000]
      const [rNow, rBefore, r30, rAfter] = await Promise.all([atNow, msBefore, at30, after30].map(async (ms) => (await insert(1, { notAfter: at(ms) }))[0]!))
      const sorted = (records: CertificateRecord[]): string[] => records.map((r) => r.id).sort()
      expect(await ids({ expired: true, now: NOW })).toEqual([rBefore!.id])
      expect(await ids({ expired: false, now: NOW })).toEqual(sorted([rNow!, r30!, rAfter!]))
      expect(await ids({ expiringWithinDays: 30, now: NOW })).toEqual(sorted([rNow!, r30!]))
      expect(await ids({ expiringWithinDays: 30, now: at(NOW_MS + 1) })).toEqual([r30!.id])
      expect(await ids({ notAfterFrom: at(atNow), notAfterTo: at(at30) })).toEqual(sorted([rNow!, r30!]))
      await rejectsWith(subject.store.listCertificates({ expired: true, limit: 10 }), 'VALIDATION_FAILED')
    })

    it('filters by notBefore range, inclusive, combined with the other filters', async () => {
      const [early] = await insert(1, { notBefore: at(NOW_MS - DAY_MS), organizationalUnit: 'buses' })
      const [exact] = await insert(1, { notBefore: NOW, organizationalUnit: 'buses' })
      await insert(1, { notBefore: at(NOW_MS + 1000), organizationalUnit: 'buses' })
      await insert(1, { notBefore: NOW, organizationalUnit: 'trucks' })
      expect(await ids({ notBeforeTo: NOW, organizationalUnit: 'buses' })).toEqual([early!.id, exact!.id].sort())
      expect(await ids({ notBeforeFrom: NOW, notBeforeTo: NOW, organizationalUnit: 'buses' })).toEqual([exact!.id])
    })

    it('refuses a cursor returned for other filters or another sort (VALIDATION_FAILED on cursor)', async () => {
      await insert(3)
      const page = await subject.store.listCertificates({ sort: 'notAfter', limit: 1 })
      const cursor = page.nextCursor as string
      expect((await subject.store.listCertificates({ sort: 'notAfter', limit: 2, cursor })).items).toHaveLength(2)
      const err = await rejectsWith(subject.store.listCertificates({ sort: 'commonName', limit: 1, cursor }), 'VALIDATION_FAILED')
      expect(err.details['field']).toBe('cursor')
      await rejectsWith(subject.store.listCertificates({ sort: 'notAfter', caId: ca.id, limit: 1, cursor }), 'VALIDATION_FAILED')
    })
  })
}
