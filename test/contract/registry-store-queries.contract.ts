/**
 * RegistryStore contract, reads and small records: listCertificates (filters, cursor paging),
 * associated clients (recordClientConnected / recordClientDisconnected / getAssociatedClients)
 * and meta.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type { CertificateRecord } from '../../src/domain/certificate.js'
import type { CaRecord } from '../../src/domain/ca.js'
import type { CertificateQuery } from '../../src/domain/query.js'
import type { StoreUnderTest } from './registry-store.contract.js'
import { instant, makeCa, makeCertificate, makeClient, rejectsWith, sortedIds } from './registry-store-records.js'

export function describeQueryContract (subject: StoreUnderTest): void {
  describe('reads', () => describeReads(subject))
}

function describeReads (subject: StoreUnderTest): void {
  let ca: CaRecord
  let otherCa: CaRecord
  beforeEach(async () => {
    ca = makeCa()
    otherCa = makeCa()
    await subject.store.insertCa(ca, 10)
    await subject.store.insertCa(otherCa, 10)
  })

  async function insertAll (records: CertificateRecord[]): Promise<CertificateRecord[]> {
    for (const record of records) await subject.store.insertCertificate(record)
    return records
  }

  async function idsOf (query: CertificateQuery): Promise<string[]> {
    return (await subject.store.listCertificates(query)).items.map((record) => record.id)
  }

  describe('listCertificates', () => {
    it('returns certificates in ascending id order, limit at a time, with a null cursor after the last page', async () => {
      const all = await insertAll(Array.from({ length: 5 }, () => makeCertificate(ca)))
      const first = await subject.store.listCertificates({ limit: 2 })
      expect(first.items.map((r) => r.id)).toEqual(sortedIds(all).slice(0, 2))
      expect(first.items[0]).toEqual(all.find((r) => r.id === first.items[0]?.id))
      expect(first.nextCursor).toEqual(expect.any(String))
      const second = await subject.store.listCertificates({ limit: 2, cursor: first.nextCursor ?? undefined })
      expect(second.items.map((r) => r.id)).toEqual(sortedIds(all).slice(2, 4))
      const last = await subject.store.listCertificates({ limit: 2, cursor: second.nextCursor ?? undefined })
      expect(last).toEqual({ items: [all.find((r) => r.id === sortedIds(all)[4])], nextCursor: null, total: 5 })
      expect(await subject.store.listCertificates({ limit: 5 })).toMatchObject({ nextCursor: null })
    })

    it.each([
      ['all certificates', (): Partial<CertificateQuery> => ({})],
      ['one CA', (): Partial<CertificateQuery> => ({ caId: ca.id })],
      ['a status filter', (): Partial<CertificateQuery> => ({ status: ['active'] })]
    ])('pages through %s while certificates are added and deleted between pages, losing and repeating none',
      async (_label, filter) => {
        const initial = await insertAll(Array.from({ length: 30 }, () => makeCertificate(ca, { status: 'active' })))
        const mustSee = new Set(initial.map((r) => r.id))
        const seen: string[] = []
        let cursor: string | undefined
        for (let page = 0; page < 100; page++) {
          const result = await subject.store.listCertificates({ ...filter(), limit: 4, cursor })
          seen.push(...result.items.map((r) => r.id))
          if (result.nextCursor === null) break
          cursor = result.nextCursor
          // between pages: delete one seen and one unseen certificate, add two that match and one that does not
          const seenVictim = result.items[0]
          if (seenVictim !== undefined) await subject.store.deleteCertificate(seenVictim.id, ['active', 'inactive'])
          const unseenVictim = [...mustSee].find((id) => !seen.includes(id))
          if (unseenVictim !== undefined) {
            await subject.store.deleteCertificate(unseenVictim, ['active'])
            mustSee.delete(unseenVictim)
          }
          await insertAll([makeCertificate(ca, { status: 'active' }), makeCertificate(ca, { status: 'active' }),
            makeCertificate(otherCa, { status: 'inactive' })])
        }
        expect(new Set(seen).size).toBe(seen.length)
        expect([...seen].sort()).toEqual(seen)
        for (const id of mustSee) expect(seen).toContain(id)
      })

    it('filters by exact common name and by common-name prefix with a trailing *', async () => {
      const [a, b, c] = await insertAll([
        makeCertificate(ca, { commonName: 'truck-100' }),
        makeCertificate(ca, { commonName: 'truck-101' }),
        makeCertificate(ca, { commonName: 'bus-100' })
      ])
      expect(await idsOf({ commonName: 'truck-100', limit: 10 })).toEqual([a?.id])
      expect(await idsOf({ commonName: 'truck-*', limit: 10 })).toEqual(sortedIds([a!, b!]))
      expect(await idsOf({ commonName: 'truck', limit: 10 })).toEqual([])
      expect(await idsOf({ commonName: '*', limit: 10 })).toEqual(sortedIds([a!, b!, c!]))
    })

    it('matches serial numbers in canonical form whatever colons, case or leading zeros the filter has', async () => {
      const [cert] = await insertAll([makeCertificate(ca, { serialNumber: 'A1B2C3' }), makeCertificate(ca, { serialNumber: 'FFEE' })])
      for (const serial of ['A1B2C3', 'a1b2c3', '00:A1:B2:C3', '00a1b2c3']) {
        expect(await idsOf({ serialNumber: serial, limit: 10 })).toEqual([cert?.id])
      }
    })

    it('filters by a list of statuses, an empty list meaning any status', async () => {
      const [active, inactive, pending] = await insertAll([
        makeCertificate(ca, { status: 'active' }),
        makeCertificate(ca, { status: 'inactive' }),
        makeCertificate(ca, { status: 'pending_activation' })
      ])
      expect(await idsOf({ status: ['pending_activation'], limit: 10 })).toEqual([pending?.id])
      expect(await idsOf({ status: ['active', 'inactive'], limit: 10 })).toEqual(sortedIds([active!, inactive!]))
      expect(await idsOf({ status: [], limit: 10 })).toHaveLength(3)
    })

    it('filters by CA, Client ID, source and organizational unit, alone and combined', async () => {
      const [a, b, c, d] = await insertAll([
        makeCertificate(ca, { clientId: 'truck-1', source: 'manual', organizationalUnit: 'trucks' }),
        makeCertificate(ca, { clientId: null, source: 'auto', organizationalUnit: 'buses' }),
        makeCertificate(otherCa, { clientId: 'truck-2', source: 'auto', organizationalUnit: 'trucks' }),
        makeCertificate(otherCa, { clientId: null, source: 'issued', organizationalUnit: 'buses' })
      ])
      expect(await idsOf({ caId: ca.id, limit: 10 })).toEqual(sortedIds([a!, b!]))
      expect(await idsOf({ clientId: 'truck-2', limit: 10 })).toEqual([c?.id])
      expect(await idsOf({ clientId: 'nobody', limit: 10 })).toEqual([])
      expect(await idsOf({ source: 'auto', limit: 10 })).toEqual(sortedIds([b!, c!]))
      expect(await idsOf({ organizationalUnit: 'buses', limit: 10 })).toEqual(sortedIds([b!, d!]))
      expect(await idsOf({ caId: otherCa.id, source: 'auto', organizationalUnit: 'trucks', limit: 10 })).toEqual([c?.id])
      expect(await idsOf({ caId: ca.id, clientId: 'truck-2', limit: 10 })).toEqual([])
      expect(await idsOf({ caId: makeCa().id, limit: 10 })).toEqual([])
    })

    it('rejects a cursor it did not issue (VALIDATION_FAILED)', async () => {
      await insertAll([makeCertificate(ca)])
      await rejectsWith(subject.store.listCertificates({ limit: 10, cursor: 'not a cursor!' }), 'VALIDATION_FAILED')
    })

    it('rejects a page size outside 1..500 (VALIDATION_FAILED)', async () => {
      for (const limit of [0, 501, 1.5]) await rejectsWith(subject.store.listCertificates({ limit }), 'VALIDATION_FAILED')
    })
  })

  describe('associated clients', () => {
    let cert: CertificateRecord
    beforeEach(async () => {
      cert = makeCertificate(ca)
      await subject.store.insertCertificate(cert)
    })

    it('lists the clients of a certificate newest first', async () => {
      await subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
      await subject.store.recordClientConnected(cert.id, makeClient('truck-2', 'node-a', instant(2)))
      await subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-b', instant(3)))
      const clients = await subject.store.getAssociatedClients(cert.id)
      expect(clients.map((c) => [c.clientId, c.node])).toEqual([['truck-1', 'node-b'], ['truck-2', 'node-a'], ['truck-1', 'node-a']])
      expect(clients[0]).toEqual(makeClient('truck-1', 'node-b', instant(3)))
    })

    it('keeps one entry per (clientId, node) and moves it to the front when that client connects again', async () => {
      await subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
      await subject.store.recordClientConnected(cert.id, makeClient('truck-2', 'node-a', instant(2)))
      await subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(3), { remoteAddress: '192.0.2.99' }))
      expect(await subject.store.getAssociatedClients(cert.id)).toEqual([
        makeClient('truck-1', 'node-a', instant(3), { remoteAddress: '192.0.2.99' }),
        makeClient('truck-2', 'node-a', instant(2))
      ])
    })

    it('keeps only the 20 most recent distinct clients', async () => {
      for (let i = 0; i < 25; i++) await subject.store.recordClientConnected(cert.id, makeClient(`truck-${i}`, 'node-a', instant(i)))
      const clients = await subject.store.getAssociatedClients(cert.id)
      expect(clients.map((c) => c.clientId)).toEqual(Array.from({ length: 20 }, (_, i) => `truck-${24 - i}`))
    })

    it('marks a client disconnected with its last-seen time, keeping its place', async () => {
      await subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
      await subject.store.recordClientConnected(cert.id, makeClient('truck-2', 'node-a', instant(2)))
      await subject.store.recordClientDisconnected(cert.id, 'truck-1', 'node-a', instant(9))
      await subject.store.recordClientDisconnected(cert.id, 'truck-1', 'node-z', instant(10))
      expect(await subject.store.getAssociatedClients(cert.id)).toEqual([
        makeClient('truck-2', 'node-a', instant(2)),
        makeClient('truck-1', 'node-a', instant(1), { connected: false, lastSeenAt: instant(9) })
      ])
    })

    it('ends disconnected when a connect and its disconnect are fired without waiting for the first', async () => {
      const connect = subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
      const disconnect = subject.store.recordClientDisconnected(cert.id, 'truck-1', 'node-a', instant(2))
      await Promise.all([connect, disconnect])
      expect(await subject.store.getAssociatedClients(cert.id)).toEqual([
        makeClient('truck-1', 'node-a', instant(1), { connected: false, lastSeenAt: instant(2) })
      ])
    })

    it('answers an empty list for a certificate without clients and ignores clients of an unregistered certificate', async () => {
      expect(await subject.store.getAssociatedClients(cert.id)).toEqual([])
      const unknown = makeCertificate(ca).id
      await subject.store.recordClientConnected(unknown, makeClient('ghost', 'node-a', instant(1)))
      expect(await subject.store.getAssociatedClients(unknown)).toEqual([])
    })

    it('forgets the clients of a deleted certificate', async () => {
      await subject.store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
      await subject.store.transitionCertificate(cert.id, ['active'], 'inactive', instant(2))
      await subject.store.deleteCertificate(cert.id, ['inactive'])
      expect(await subject.store.getAssociatedClients(cert.id)).toEqual([])
    })
  })

  describe('meta', () => {
    it('answers undefined for an unset key and the latest value for a set one', async () => {
      expect(await subject.store.getMeta('admin.tokenHash')).toBeUndefined()
      await subject.store.setMeta('admin.tokenHash', 'sha256:aaaa')
      await subject.store.setMeta('schemaVersion', '1')
      await subject.store.setMeta('admin.tokenHash', 'sha256:bbbb')
      expect(await subject.store.getMeta('admin.tokenHash')).toBe('sha256:bbbb')
      expect(await subject.store.getMeta('schemaVersion')).toBe('1')
    })

    it('deletes keys, absent ones included, and keeps the others', async () => {
      await subject.store.setMeta('admin.tokenHash', 'sha256:cccc')
      await subject.store.setMeta('admin.tokenHash.createdAt', instant(1))
      await subject.store.setMeta('schemaVersion', '1')
      await subject.store.deleteMeta(['admin.tokenHash', 'admin.tokenHash.createdAt', 'never-set'])
      expect(await subject.store.getMeta('admin.tokenHash')).toBeUndefined()
      expect(await subject.store.getMeta('admin.tokenHash.createdAt')).toBeUndefined()
      expect(await subject.store.getMeta('schemaVersion')).toBe('1')
    })
  })
}
