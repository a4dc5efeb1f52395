import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT, TSX_IMPORT } from '../../helpers/tsx.js'
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
  it('takes lmdb\'s unhandled commit failures and their commitError, and tells every guard about each with its cause', async () => {
    const heard: Array<[Error, unknown]> = []
    const unguard = guardLmdbCommitFailures((err, cause) => { heard.push([err, cause]) })
    const second: Error[] = []
    const unguardSecond = guardLmdbCommitFailures((err) => { second.push(err) })
    try {
      const err = lmdbCommitFailure()
      await turns()
      expect(heard).toEqual([[err, expect.objectContaining({ message: 'Input/output error', code: 5 })]])
      expect(second).toEqual([err])
    } finally {
      unguard()
      unguardSecond()
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
      // one listener for any number of guards, gone with the last
      const before = process.listenerCount('unhandledRejection')
      const first = guardLmdbCommitFailures(() => {})
      const second = guardLmdbCommitFailures(() => {})
      expect(process.listenerCount('unhandledRejection')).toBe(before + 1)
      first()
      expect(process.listenerCount('unhandledRejection')).toBe(before + 1)
      second()
      expect(process.listenerCount('unhandledRejection')).toBe(before)
    } finally {
      unguard()
      process.off('unhandledRejection', other)
    }
  })

  it('keeps any other unhandled rejection fatal when it is the only listener', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', TSX_IMPORT, join(REPO_ROOT, 'test/helpers/guarded-rejection.ts')])
    await expect(run).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('an unrelated failure nobody handled') })
  })
})
