import { describe, expect, it } from 'vitest'
import { guardLmdbCommitFailures } from '../../../src/store/embedded/commit-failures.js'

/**
 * A rejection shaped as lmdb makes it when a commit fails, nobody handling it: the error at once,
 * its commitError a moment later (lmdb rejects it when the write thread reports the cause).
 */
function lmdbCommitFailure (): Error {
  let fail: (reason: Error) => void = () => {}
  const cause = new Promise<never>((resolve, reject) => { fail = reject })
  const err = Object.assign(new Error('Commit failed (see commitError for details)'), { commitError: cause })
  void Promise.reject(err)
  setImmediate(() => { fail(Object.assign(new Error('Input/output error'), { code: 5 })) })
  return err
}

async function turns (): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('guardLmdbCommitFailures', () => {
  it('takes lmdb\'s unhandled commit failures and their commitError, and tells about each', async () => {
    const heard: Error[] = []
    const unguard = guardLmdbCommitFailures((err) => { heard.push(err) })
    try {
      const err = lmdbCommitFailure()
      await turns()
      expect(heard).toEqual([err])
    } finally {
      unguard()
    }
  })

  it('leaves every other unhandled rejection to the listeners before it, and is gone once removed', async () => {
    const others: unknown[] = []
    const other = (reason: unknown): void => { others.push(reason) }
    process.on('unhandledRejection', other)
    const heard: Error[] = []
    const unguard = guardLmdbCommitFailures((err) => { heard.push(err) })
    try {
      const plain = new Error('not lmdb')
      void Promise.reject(plain)
      await turns()
      expect(heard).toEqual([])
      expect(others).toContain(plain)
      unguard()
      expect(process.listeners('unhandledRejection')).not.toContain(undefined)
      const before = process.listenerCount('unhandledRejection')
      const again = guardLmdbCommitFailures(() => {})
      expect(process.listenerCount('unhandledRejection')).toBe(before + 1)
      again()
      expect(process.listenerCount('unhandledRejection')).toBe(before)
    } finally {
      unguard()
      process.off('unhandledRejection', other)
    }
  })
})
