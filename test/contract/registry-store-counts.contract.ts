/**
 * RegistryStore contract, countCertificates: the numbers behind the certificate gauges of
 * /metrics, kept in step with every write and rebuilt when the store is opened again.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type { CaRecord } from '../../src/domain/ca.js'
import type { StoreUnderTest } from './registry-store.contract.js'
import { makeCa, makeCertificate } from './registry-store-records.js'

const NOW = '2026-06-01T00:00:00.000Z'
const DAY = 86_400_000
function inDays (days: number): string {
  return new Date(Date.parse(NOW) + days * DAY).toISOString()
}

export function describeCountContract (subject: StoreUnderTest): void {
  describe('countCertificates', () => {
    let a: CaRecord
    let b: CaRecord
    beforeEach(async () => {
      a = makeCa()
      b = makeCa()
      await subject.store.insertCa(a, 10)
      await subject.store.insertCa(b, 10)
    })

    function expiring (counts: Awaited<ReturnType<StoreUnderTest['store']['countCertificates']>>, caId: string, withinDays: number): number | undefined {
      return counts.expiring.find((e) => e.caId === caId && e.withinDays === withinDays)?.count
    }

    it('answers zero for every status in an empty store', async () => {
      const counts = await subject.store.countCertificates(NOW, [7, 30])
      expect(counts.byStatus).toEqual({ active: 0, inactive: 0, pending_activation: 0, revoked: 0 })
    })

    it('counts by status through inserts, transitions and deletes', async () => {
      const one = makeCertificate(a, { status: 'active' })
      const two = makeCertificate(a, { status: 'active' })
      const three = makeCertificate(b, { status: 'pending_activation' })
      for (const c of [one, two, three]) await subject.store.insertCertificate(c)
      expect((await subject.store.countCertificates(NOW, [])).byStatus).toEqual({ active: 2, inactive: 0, pending_activation: 1, revoked: 0 })
      await subject.store.transitionCertificate(one.id, ['active'], 'revoked', NOW)
      await subject.store.transitionCertificate(three.id, ['pending_activation'], 'active', NOW)
      await subject.store.transitionCertificate(two.id, ['active'], 'inactive', NOW)
      expect((await subject.store.countCertificates(NOW, [])).byStatus).toEqual({ active: 1, inactive: 1, pending_activation: 0, revoked: 1 })
      await subject.store.deleteCertificate(two.id, ['inactive'])
      expect((await subject.store.countCertificates(NOW, [])).byStatus).toEqual({ active: 1, inactive: 0, pending_activation: 0, revoked: 1 })
    })

    it('counts per CA the certificates expiring within each window, leaving out expired and revoked ones', async () => {
      const soon = makeCertificate(a, { notAfter: inDays(3) })
      const edge = makeCertificate(a, { notAfter: inDays(7) })
      const month = makeCertificate(a, { notAfter: inDays(20) })
      const late = makeCertificate(a, { notAfter: inDays(31) })
      const expired = makeCertificate(a, { notAfter: inDays(-1) })
      const revoked = makeCertificate(a, { notAfter: inDays(2) })
      const other = makeCertificate(b, { notAfter: inDays(29) })
      for (const c of [soon, edge, month, late, expired, revoked, other]) await subject.store.insertCertificate(c)
      await subject.store.transitionCertificate(revoked.id, ['active'], 'revoked', NOW)
      const counts = await subject.store.countCertificates(NOW, [7, 30])
      expect(expiring(counts, a.id, 7)).toBe(2)
      expect(expiring(counts, a.id, 30)).toBe(3)
      expect(expiring(counts, b.id, 7)).toBe(0)
      expect(expiring(counts, b.id, 30)).toBe(1)
    })

    it('gives the same counts after the store is closed and opened again', async () => {
      const soon = makeCertificate(a, { notAfter: inDays(3) })
      await subject.store.insertCertificate(soon)
      await subject.store.insertCertificate(makeCertificate(b, { status: 'inactive', notAfter: inDays(100) }))
      const before = await subject.store.countCertificates(NOW, [7, 30])
      await subject.store.close()
      await subject.store.open()
      const after = await subject.store.countCertificates(NOW, [7, 30])
      expect(after.byStatus).toEqual(before.byStatus)
      expect(after.expiring).toEqual(expect.arrayContaining(before.expiring))
      expect(after.expiring).toHaveLength(before.expiring.length)
      expect(expiring(after, a.id, 7)).toBe(1)
    })

    it('drops the counts of a CA that is deleted with its certificates', async () => {
      await subject.store.insertCertificate(makeCertificate(b, { status: 'inactive', notAfter: inDays(3) }))
      await subject.store.deleteCa(b.id)
      const counts = await subject.store.countCertificates(NOW, [7])
      expect(counts.expiring.filter((e) => e.caId === b.id)).toEqual([])
      expect(counts.byStatus.inactive).toBe(0)
    })
  })
}
