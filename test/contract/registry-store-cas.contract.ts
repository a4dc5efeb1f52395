/** RegistryStore contract, CA methods: insertCa, getCa, listCas, transitionCa, deleteCa, setCaHosts, updateCaSettings and the CRL methods. */
import { describe, expect, it } from 'vitest'
import type { StoreUnderTest } from './registry-store.contract.js'
import { instant, makeCa, makeCertificate, makeClient, rejectsWith } from './registry-store-records.js'

export function describeCaContract (subject: StoreUnderTest): void {
  describe('CAs', () => {
    it('stores a CA and reads it back; getCa answers undefined for an unknown id', async () => {
      const ca = makeCa({ description: 'plant 7' })
      expect(await subject.store.insertCa(ca, 10)).toEqual(ca)
      expect(await subject.store.getCa(ca.id)).toEqual(ca)
      expect(await subject.store.getCa(makeCa().id)).toBeUndefined()
    })

    it('refuses a second CA with the same id (CA_DUPLICATE) and keeps the first', async () => {
      const ca = makeCa({ description: 'first' })
      await subject.store.insertCa(ca, 10)
      const err = await rejectsWith(subject.store.insertCa({ ...ca, description: 'second' }, 10), 'CA_DUPLICATE')
      expect(err.details).toMatchObject({ id: ca.id })
      expect((await subject.store.getCa(ca.id))?.description).toBe('first')
    })

    it('refuses a CA once maxCas CAs are registered, not counting the built-in CA (CA_LIMIT_REACHED)', async () => {
      await subject.store.insertCa(makeCa({ builtin: true }), 2)
      await subject.store.insertCa(makeCa(), 2)
      await subject.store.insertCa(makeCa(), 2)
      const third = makeCa()
      const err = await rejectsWith(subject.store.insertCa(third, 2), 'CA_LIMIT_REACHED')
      expect(err.details).toMatchObject({ id: third.id, maxCas: 2 })
      expect(await subject.store.getCa(third.id)).toBeUndefined()
      expect(await subject.store.listCas()).toHaveLength(3)
    })

    it('lists CAs oldest first', async () => {
      const newer = makeCa({ createdAt: instant(200) })
      const older = makeCa({ createdAt: instant(100) })
      const newest = makeCa({ createdAt: instant(300) })
      for (const ca of [newer, newest, older]) await subject.store.insertCa(ca, 10)
      expect((await subject.store.listCas()).map((ca) => ca.id)).toEqual([older.id, newer.id, newest.id])
    })

    it('changes a CA status from an allowed status and stamps updatedAt', async () => {
      const ca = makeCa()
      await subject.store.insertCa(ca, 10)
      const updated = await subject.store.transitionCa(ca.id, ['active'], 'inactive', instant(9000))
      expect(updated).toEqual({ ...ca, status: 'inactive', updatedAt: instant(9000) })
      expect(await subject.store.getCa(ca.id)).toEqual(updated)
    })

    it('refuses a CA status change from a status not allowed (CA_STATUS_CONFLICT) with details.status', async () => {
      const ca = makeCa({ status: 'inactive' })
      await subject.store.insertCa(ca, 10)
      const err = await rejectsWith(subject.store.transitionCa(ca.id, ['active'], 'inactive', instant(9000)), 'CA_STATUS_CONFLICT')
      expect(err.details).toMatchObject({ id: ca.id, status: 'inactive' })
      expect(await subject.store.getCa(ca.id)).toEqual(ca)
    })

    it('reports CA_NOT_FOUND when changing the status of an unknown CA', async () => {
      await rejectsWith(subject.store.transitionCa(makeCa().id, ['active'], 'inactive', instant(1)), 'CA_NOT_FOUND')
    })

    describe('deleteCa', () => {
      it('reports CA_NOT_FOUND for an unknown CA', async () => {
        await rejectsWith(subject.store.deleteCa(makeCa().id), 'CA_NOT_FOUND')
      })

      it('refuses to delete the built-in CA (CA_BUILTIN)', async () => {
        const builtin = makeCa({ builtin: true })
        await subject.store.insertCa(builtin, 10)
        const err = await rejectsWith(subject.store.deleteCa(builtin.id), 'CA_BUILTIN')
        expect(err.details).toMatchObject({ id: builtin.id })
        expect(await subject.store.getCa(builtin.id)).toEqual(builtin)
      })

      it('refuses to delete a CA while one of its certificates is active (CA_HAS_ACTIVE_CERTIFICATES) and deletes nothing', async () => {
        const ca = makeCa()
        await subject.store.insertCa(ca, 10)
        const active = makeCertificate(ca, { status: 'active' })
        const inactive = makeCertificate(ca, { status: 'inactive' })
        await subject.store.insertCertificate(active)
        await subject.store.insertCertificate(inactive)
        const err = await rejectsWith(subject.store.deleteCa(ca.id), 'CA_HAS_ACTIVE_CERTIFICATES')
        expect(err.details).toMatchObject({ id: ca.id })
        expect(await subject.store.getCa(ca.id)).toEqual(ca)
        expect(await subject.store.getCertificate(inactive.id)).toEqual(inactive)
      })

      it('deletes a CA with its non-active certificates, freeing their Client IDs and keeping revoked ones denied', async () => {
        const ca = makeCa()
        const other = makeCa()
        await subject.store.insertCa(ca, 10)
        await subject.store.insertCa(other, 10)
        const inactive = makeCertificate(ca, { status: 'inactive', clientId: 'truck-17' })
        const pending = makeCertificate(ca, { status: 'pending_activation' })
        const revoked = makeCertificate(ca, { status: 'active' })
        const elsewhere = makeCertificate(other, { status: 'active' })
        for (const cert of [inactive, pending, revoked, elsewhere]) await subject.store.insertCertificate(cert)
        await subject.store.transitionCertificate(revoked.id, ['active'], 'revoked', instant(5000))
        await subject.store.recordClientConnected(inactive.id, makeClient('truck-17', 'node-a', instant(4000)))

        const deleted = await subject.store.deleteCa(ca.id)
        // each as it was before, so the caller can record one event per certificate
        expect(deleted.ca).toEqual(ca)
        expect([...deleted.certificates].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
          inactive, pending, { ...revoked, status: 'revoked', updatedAt: instant(5000) }
        ].sort((a, b) => (a.id < b.id ? -1 : 1)))

        expect(await subject.store.getCa(ca.id)).toBeUndefined()
        for (const cert of [inactive, pending, revoked]) expect(await subject.store.getCertificate(cert.id)).toBeUndefined()
        expect(await subject.store.getAssociatedClients(inactive.id)).toEqual([])
        expect(await subject.store.getCertificate(elsewhere.id)).toEqual(elsewhere)
        expect(await subject.store.isDenied(revoked.id)).toBe(true)
        expect((await subject.store.listCertificates({ caId: ca.id, limit: 10 })).items).toEqual([])
        await subject.store.insertCertificate(makeCertificate(other, { clientId: 'truck-17' }))
      })
    })

    describe('host binding and CRLs (PRODUCT §2)', () => {
      const state = (thisUpdate: number, revokedCount: number) => ({
        thisUpdate: instant(thisUpdate), nextUpdate: instant(thisUpdate + 86_400), revokedCount, importedAt: instant(thisUpdate + 1)
      })

      it('replaces the hosts of a CA and stamps updatedAt; CA_NOT_FOUND for an unknown CA', async () => {
        const ca = makeCa()
        await subject.store.insertCa(ca, 10)
        const bound = await subject.store.setCaHosts(ca.id, ['fleet-a.example', 'fleet-b.example'], instant(900))
        expect(bound).toEqual({ ...ca, hosts: ['fleet-a.example', 'fleet-b.example'], updatedAt: instant(900) })
        expect(await subject.store.getCa(ca.id)).toEqual(bound)
        expect((await subject.store.setCaHosts(ca.id, [], instant(901))).hosts).toEqual([])
        await rejectsWith(subject.store.setCaHosts(makeCa().id, [], instant(902)), 'CA_NOT_FOUND')
      })

      it('changes only the given settings of a CA and stamps updatedAt; CA_NOT_FOUND for an unknown CA', async () => {
        const ca = { ...makeCa(), registrationMode: 'auto' as const, autoActivate: true, description: 'fleet' }
        await subject.store.insertCa(ca, 10)
        const manual = await subject.store.updateCaSettings(ca.id, { registrationMode: 'manual' }, instant(910))
        expect(manual).toEqual({ ...ca, registrationMode: 'manual', updatedAt: instant(910) })
        expect(await subject.store.getCa(ca.id)).toEqual(manual)
        const both = await subject.store.updateCaSettings(ca.id, { autoActivate: false, description: '' }, instant(911))
        expect(both).toEqual({ ...ca, registrationMode: 'manual', autoActivate: false, description: '', updatedAt: instant(911) })
        await rejectsWith(subject.store.updateCaSettings(makeCa().id, { description: 'x' }, instant(912)), 'CA_NOT_FOUND')
      })

      it('puts a CRL in force with its serials and the CA crl state, in one write', async () => {
        const ca = makeCa()
        await subject.store.insertCa(ca, 10)
        expect(await subject.store.getCrl(ca.id)).toBeUndefined()
        const der = Buffer.from('3003020101', 'hex')
        const updated = await subject.store.replaceCrl(ca.id, { der, serials: ['0A', '1B2C'] }, state(1000, 2))
        expect(updated.crl).toEqual(state(1000, 2))
        expect((await subject.store.getCa(ca.id))?.crl).toEqual(state(1000, 2))
        expect(await subject.store.getCrl(ca.id)).toEqual({ der, serials: ['0A', '1B2C'] })
      })

      it('records a refused import as crl.lastError and keeps the CRL in force; a later import clears it', async () => {
        const ca = makeCa()
        await subject.store.insertCa(ca, 10)
        const noneYet = await subject.store.recordCrlError(ca.id, { code: 'CRL_INVALID', message: 'bad', at: instant(10) })
        expect(noneYet.crl).toEqual({ thisUpdate: null, nextUpdate: null, revokedCount: 0, importedAt: null, lastError: { code: 'CRL_INVALID', message: 'bad', at: instant(10) } })
        await subject.store.replaceCrl(ca.id, { der: Buffer.from('01', 'hex'), serials: ['0A'] }, state(1000, 1))
        expect((await subject.store.getCa(ca.id))?.crl?.lastError).toBeUndefined()
        const refused = await subject.store.recordCrlError(ca.id, { code: 'CRL_STALE', message: 'old', at: instant(2000) })
        expect(refused.crl).toEqual({ ...state(1000, 1), lastError: { code: 'CRL_STALE', message: 'old', at: instant(2000) } })
        expect((await subject.store.getCrl(ca.id))?.serials).toEqual(['0A'])
        await rejectsWith(subject.store.recordCrlError(makeCa().id, { code: 'CRL_INVALID', message: 'x', at: instant(1) }), 'CA_NOT_FOUND')
      })

      it('refuses a CRL older than the one in force (CRL_STALE) and keeps the newer one', async () => {
        const ca = makeCa()
        await subject.store.insertCa(ca, 10)
        await subject.store.replaceCrl(ca.id, { der: Buffer.from('02', 'hex'), serials: ['0B'] }, state(5000, 1))
        await rejectsWith(subject.store.replaceCrl(ca.id, { der: Buffer.from('01', 'hex'), serials: [] }, state(4000, 0)), 'CRL_STALE')
        expect((await subject.store.getCrl(ca.id))?.serials).toEqual(['0B'])
        await rejectsWith(subject.store.replaceCrl(makeCa().id, { der: Buffer.from('01', 'hex'), serials: [] }, state(1, 0)), 'CA_NOT_FOUND')
      })

      it('forgets the CRL of a deleted CA', async () => {
        const ca = makeCa()
        await subject.store.insertCa(ca, 10)
        await subject.store.replaceCrl(ca.id, { der: Buffer.from('01', 'hex'), serials: ['0A'] }, state(1000, 1))
        await subject.store.deleteCa(ca.id)
        expect(await subject.store.getCrl(ca.id)).toBeUndefined()
      })
    })
  })
}
