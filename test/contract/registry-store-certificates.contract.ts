/**
 * RegistryStore contract, certificate writes: insertCertificate, getCertificate,
 * transitionCertificate, deleteCertificate, isDenied.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type { CaRecord } from '../../src/domain/ca.js'
import { CertmqError } from '../../src/errors.js'
import type { StoreUnderTest } from './registry-store.contract.js'
import { instant, makeCa, makeCertificate, rejectsWith } from './registry-store-records.js'

/** Settles all, and returns the fulfilled values and the rejection codes. */
async function outcomes<T> (calls: Array<Promise<T>>): Promise<{ values: T[]; codes: string[] }> {
  const settled = await Promise.allSettled(calls)
  const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const codes = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason instanceof CertmqError ? s.reason.code : String(s.reason)] : []))
  return { values, codes }
}

export function describeCertificateContract (subject: StoreUnderTest): void {
  describe('certificates', () => {
    let ca: CaRecord
    beforeEach(async () => {
      ca = makeCa()
      await subject.store.insertCa(ca, 10)
    })

    it('stores a certificate and reads it back; getCertificate answers undefined for an unknown id', async () => {
      const cert = makeCertificate(ca, { clientId: 'truck-1', keyUsage: null, extendedKeyUsage: null })
      expect(await subject.store.insertCertificate(cert)).toEqual(cert)
      expect(await subject.store.getCertificate(cert.id)).toEqual(cert)
      expect(await subject.store.getCertificate(makeCertificate(ca).id)).toBeUndefined()
    })

    it('names the certificate that owns a registered Client ID, and none once it is deleted or for an ID nobody registered', async () => {
      const owner = makeCertificate(ca, { clientId: 'owned-1' })
      await subject.store.insertCertificate(owner)
      await subject.store.insertCertificate(makeCertificate(ca))
      const { store } = subject
      expect(await store.certificateIdOfClientId('owned-1')).toBe(owner.id)
      expect(await store.certificateIdOfClientId('nobody')).toBeUndefined()
      // the synchronous lookup CONNECT uses, where the store has one, gives the same answers:
      // asserted itself, so a lookup that finds nothing cannot pass
      if (store.certificateIdOfClientIdNow !== undefined) {
        expect(store.certificateIdOfClientIdNow('owned-1')).toBe(owner.id)
        expect(store.certificateIdOfClientIdNow('nobody')).toBeUndefined()
      }
      await store.transitionCertificate(owner.id, ['active'], 'inactive', instant(0))
      await store.deleteCertificate(owner.id, ['inactive'])
      expect(await store.certificateIdOfClientId('owned-1')).toBeUndefined()
      if (store.certificateIdOfClientIdNow !== undefined) expect(store.certificateIdOfClientIdNow('owned-1')).toBeUndefined()
    })

    it('refuses a certificate that is already registered (CERT_DUPLICATE) and keeps the first', async () => {
      const cert = makeCertificate(ca)
      await subject.store.insertCertificate(cert)
      const err = await rejectsWith(subject.store.insertCertificate({ ...cert, commonName: 'other' }), 'CERT_DUPLICATE')
      expect(err.details).toMatchObject({ id: cert.id })
      expect(await subject.store.getCertificate(cert.id)).toEqual(cert)
    })

    it('gives exactly one success and one CERT_DUPLICATE for two concurrent inserts of the same certificate', async () => {
      const cert = makeCertificate(ca)
      const { values, codes } = await outcomes([
        subject.store.insertCertificate(cert),
        subject.store.insertCertificate({ ...cert, source: 'auto' })
      ])
      expect(values).toHaveLength(1)
      expect(codes).toEqual(['CERT_DUPLICATE'])
      expect(await subject.store.getCertificate(cert.id)).toEqual(values[0])
    })

    it('refuses a certificate under a CA that is not registered (CA_NOT_FOUND)', async () => {
      const cert = makeCertificate(makeCa())
      const err = await rejectsWith(subject.store.insertCertificate(cert), 'CA_NOT_FOUND')
      expect(err.details).toMatchObject({ caId: cert.caId })
      expect(await subject.store.getCertificate(cert.id)).toBeUndefined()
    })

    describe('Client ID', () => {
      it('refuses a second certificate with the same Client ID (CLIENT_ID_TAKEN)', async () => {
        const first = makeCertificate(ca, { clientId: 'truck-7' })
        await subject.store.insertCertificate(first)
        const second = makeCertificate(ca, { clientId: 'truck-7' })
        const err = await rejectsWith(subject.store.insertCertificate(second), 'CLIENT_ID_TAKEN')
        expect(err.details).toMatchObject({ clientId: 'truck-7', takenBy: first.id })
        expect(err.message).toContain('truck-7')
        expect(await subject.store.getCertificate(second.id)).toBeUndefined()
      })

      it('gives exactly one success for concurrent inserts of two certificates with one Client ID (CLIENT_ID_TAKEN)', async () => {
        const { values, codes } = await outcomes([
          subject.store.insertCertificate(makeCertificate(ca, { clientId: 'truck-8' })),
          subject.store.insertCertificate(makeCertificate(ca, { clientId: 'truck-8' }))
        ])
        expect(values).toHaveLength(1)
        expect(codes).toEqual(['CLIENT_ID_TAKEN'])
      })

      it('lets any number of certificates have no Client ID', async () => {
        for (let i = 0; i < 3; i++) await subject.store.insertCertificate(makeCertificate(ca, { clientId: null }))
        expect((await subject.store.listCertificates({ limit: 10 })).items).toHaveLength(3)
      })

      it('frees the Client ID when its certificate is deleted', async () => {
        const first = makeCertificate(ca, { clientId: 'truck-9', status: 'inactive' })
        await subject.store.insertCertificate(first)
        await subject.store.deleteCertificate(first.id, ['inactive'])
        const second = makeCertificate(ca, { clientId: 'truck-9' })
        expect(await subject.store.insertCertificate(second)).toEqual(second)
      })
    })

    describe('status changes', () => {
      it('changes the status from an allowed status and stamps updatedAt', async () => {
        const cert = makeCertificate(ca, { status: 'pending_activation' })
        await subject.store.insertCertificate(cert)
        const { record: updated, from } = await subject.store.transitionCertificate(cert.id, ['pending_activation', 'inactive'], 'active', instant(7000))
        expect(from).toBe('pending_activation')
        expect(updated).toEqual({ ...cert, status: 'active', updatedAt: instant(7000) })
        expect(await subject.store.getCertificate(cert.id)).toEqual(updated)
      })

      it('refuses a change from a status not in allowedFrom (CERT_STATUS_CONFLICT) with details.status the current status', async () => {
        const cert = makeCertificate(ca, { status: 'inactive' })
        await subject.store.insertCertificate(cert)
        const err = await rejectsWith(subject.store.transitionCertificate(cert.id, ['active'], 'inactive', instant(7000)),
          'CERT_STATUS_CONFLICT')
        expect(err.details).toMatchObject({ id: cert.id, status: 'inactive' })
        expect(await subject.store.getCertificate(cert.id)).toEqual(cert)
      })

      it('reports CERT_NOT_FOUND when changing the status of an unknown certificate', async () => {
        const err = await rejectsWith(subject.store.transitionCertificate(makeCertificate(ca).id, ['active'], 'inactive', instant(1)),
          'CERT_NOT_FOUND')
        expect(err.details).toHaveProperty('id')
      })

      it('lets exactly one of two concurrent changes from the same status win (CERT_STATUS_CONFLICT)', async () => {
        const cert = makeCertificate(ca, { status: 'active' })
        await subject.store.insertCertificate(cert)
        const { values, codes } = await outcomes([
          subject.store.transitionCertificate(cert.id, ['active'], 'inactive', instant(1)),
          subject.store.transitionCertificate(cert.id, ['active'], 'revoked', instant(2))
        ])
        expect(values).toHaveLength(1)
        expect(codes).toEqual(['CERT_STATUS_CONFLICT'])
        expect((await subject.store.getCertificate(cert.id))?.status).toBe(values[0]?.record.status)
      })
    })

    describe('deny list', () => {
      it('denies a certificate once it is revoked, and only that one', async () => {
        const revoked = makeCertificate(ca)
        const kept = makeCertificate(ca)
        await subject.store.insertCertificate(revoked)
        await subject.store.insertCertificate(kept)
        expect(await subject.store.isDenied(revoked.id)).toBe(false)
        await subject.store.transitionCertificate(revoked.id, ['active', 'inactive'], 'revoked', instant(3000))
        expect(await subject.store.isDenied(revoked.id)).toBe(true)
        expect(await subject.store.isDenied(kept.id)).toBe(false)
        expect(await subject.store.isDenied(makeCertificate(ca).id)).toBe(false)
      })

      it('refuses to register a revoked certificate again (CERT_REVOKED)', async () => {
        const cert = makeCertificate(ca)
        await subject.store.insertCertificate(cert)
        await subject.store.transitionCertificate(cert.id, ['active'], 'revoked', instant(3000))
        const err = await rejectsWith(subject.store.insertCertificate({ ...cert, status: 'active' }), 'CERT_REVOKED')
        expect(err.details).toMatchObject({ id: cert.id })
      })

      it('keeps a revoked certificate on the deny list after it is deleted (CERT_REVOKED on a new insert)', async () => {
        const cert = makeCertificate(ca)
        await subject.store.insertCertificate(cert)
        await subject.store.transitionCertificate(cert.id, ['active'], 'revoked', instant(3000))
        await subject.store.deleteCertificate(cert.id, ['revoked'])
        expect(await subject.store.getCertificate(cert.id)).toBeUndefined()
        expect(await subject.store.isDenied(cert.id)).toBe(true)
        await rejectsWith(subject.store.insertCertificate({ ...cert, status: 'pending_activation' }), 'CERT_REVOKED')
      })
    })

    describe('deleteCertificate', () => {
      it('deletes a certificate whose status is allowed and returns it', async () => {
        const cert = makeCertificate(ca, { status: 'inactive' })
        await subject.store.insertCertificate(cert)
        expect(await subject.store.deleteCertificate(cert.id, ['inactive', 'pending_activation'])).toEqual(cert)
        expect(await subject.store.getCertificate(cert.id)).toBeUndefined()
        expect(await subject.store.isDenied(cert.id)).toBe(false)
      })

      it('refuses to delete a certificate whose status is not allowed (CERT_STATUS_CONFLICT)', async () => {
        const cert = makeCertificate(ca, { status: 'active' })
        await subject.store.insertCertificate(cert)
        const err = await rejectsWith(subject.store.deleteCertificate(cert.id, ['inactive', 'pending_activation', 'revoked']),
          'CERT_STATUS_CONFLICT')
        expect(err.details).toMatchObject({ id: cert.id, status: 'active' })
        expect(err.message).toMatch(/active/)
        expect(await subject.store.getCertificate(cert.id)).toEqual(cert)
      })

      it('reports CERT_NOT_FOUND when deleting an unknown certificate', async () => {
        await rejectsWith(subject.store.deleteCertificate(makeCertificate(ca).id, ['inactive']), 'CERT_NOT_FOUND')
      })
    })
  })
}
