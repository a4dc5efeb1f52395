/**
 * The RegistryStore contract (STYLE §6): one suite that every store implementation runs, so the
 * embedded and Redis stores cannot drift apart. Each test gets a fresh, empty store.
 *
 *   describeRegistryStore('EmbeddedRegistryStore', async () => ({ store, cleanup }))
 *
 * `makeStore` returns a store that is not opened yet; the suite calls `open()` before each test
 * and `close()` after it, then `cleanup()` (which may close again: close is idempotent) to drop
 * the store's data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RegistryStore } from '../../src/store/ports.js'
import { describeCaContract } from './registry-store-cas.contract.js'
import { describeCertificateContract } from './registry-store-certificates.contract.js'
import { describeQueryContract } from './registry-store-queries.contract.js'
import { describeCountContract } from './registry-store-counts.contract.js'
import { describeSearchContract } from './registry-store-search.contract.js'
import { makeCa, rejectsWith } from './registry-store-records.js'

export { makeCa, makeCertificate, makeClient, fakeFingerprint, instant, rejectsWith, sortedIds } from './registry-store-records.js'

export type MakeStore = () => Promise<{ store: RegistryStore; cleanup: () => Promise<void> }>

/** The store under test, replaced before every test. */
export interface StoreUnderTest {
  readonly store: RegistryStore
}

export function describeRegistryStore (name: string, makeStore: MakeStore): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let current: { store: RegistryStore; cleanup: () => Promise<void> } | undefined
    const subject: StoreUnderTest = {
      get store () {
        if (current === undefined) throw new Error('no store: the contract suite creates one in beforeEach')
        return current.store
      }
    }

    beforeEach(async () => {
      current = await makeStore()
      await current.store.open()
    })

    afterEach(async () => {
      const done = current
      current = undefined
      if (done === undefined) return
      try {
        await done.store.close()
      } finally {
        await done.cleanup()
      }
    })

    describe('open and close', () => {
      it('can be closed more than once', async () => {
        await subject.store.close()
        await subject.store.close()
      })

      it('reports STORE_UNAVAILABLE for a call made after close', async () => {
        await subject.store.close()
        const err = await rejectsWith(subject.store.insertCa(makeCa(), 10), 'STORE_UNAVAILABLE')
        expect(err.message).toMatch(/.+: .+/)
      })
    })

    describeCaContract(subject)
    describeCertificateContract(subject)
    describeQueryContract(subject)
    describeCountContract(subject)
    describeSearchContract(subject)
  })
}
