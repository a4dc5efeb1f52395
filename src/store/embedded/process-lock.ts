/**
 * One certmq process per embedded store: the store's uniqueness checks rely on being the only
 * writer. A lock file holds the owner's pid; a lock left by a process that no longer runs (after
 * kill -9) is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CertmqError } from '../../errors.js'

export const LOCK_FILE = 'certmq.lock'

/**
 * Takes the lock. `tookOver` says a lock was left behind: the process that held the store before
 * did not close it (kill -9, power loss), so what it would have written at close is missing.
 */
export function acquireProcessLock (dir: string): { release: () => void, tookOver: boolean } {
  const file = join(dir, LOCK_FILE)
  let tookOver = false
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
      const release = (): void => {
        try { unlinkSync(file) } catch { /* already gone */ }
      }
      return { release, tookOver }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CertmqError('STORE_UNAVAILABLE', `embedded store at ${dir}: cannot create ${LOCK_FILE} (${(err as Error).message})`, { path: dir }, { cause: err })
      }
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10)
      if (Number.isInteger(owner) && owner !== process.pid && isRunning(owner)) {
        throw new CertmqError('STORE_UNAVAILABLE',
          `embedded store at ${dir} is in use by process ${owner}; stop it or give this node another data directory`,
          { path: dir, pid: owner })
      }
      // stale (its process is gone) or our own: take it over
      try { unlinkSync(file) } catch { /* raced with its owner's cleanup */ }
      tookOver = true
    }
  }
  throw new CertmqError('STORE_UNAVAILABLE', `embedded store at ${dir}: could not take ${LOCK_FILE}`, { path: dir })
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
