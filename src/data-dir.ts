/**
 * Creates the data directory and its missing parents (mkdir -p, mode 0700). Not with node's
 * `mkdirSync(…, { recursive: true })`: on a path whose existing parent cannot hold it, such as one
 * under /proc, mkdir answers ENOENT, node takes that for a missing parent, creates the parent
 * (EEXIST) and tries again, for ever: the start hung at 100% CPU without a word.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CertmqError } from './errors.js'
import { errnoOf } from './listen-failure.js'

/** Throws STORE_UNAVAILABLE (dataDirFailure) naming `dataDir` when it cannot be created. */
export function createDataDir (dataDir: string): void {
  const missing: string[] = []
  for (let at = dataDir; !existsSync(at); at = dirname(at)) {
    missing.unshift(at)
    if (dirname(at) === at) break
  }
  try {
    for (const dir of missing) {
      try {
        mkdirSync(dir, { mode: 0o700 })
      } catch (err) {
        // made meanwhile by another process: fine, if it is a directory
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw err
      }
    }
    // a file where the directory should be
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error(`${dataDir} is not a directory`), { code: 'ENOTDIR' })
  } catch (err) {
    throw dataDirFailure(err, dataDir)
  }
}

/** STORE_UNAVAILABLE for a data directory that cannot be created or used. */
function dataDirFailure (err: unknown, dataDir: string): CertmqError {
  const code = errnoOf(err)
  const why = code === 'EEXIST' || code === 'ENOTDIR'
    ? 'a file is in the way'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message
  return new CertmqError('STORE_UNAVAILABLE', `dataDir: cannot use ${dataDir} as the data directory: ${why} (set dataDir, or CERTMQ_DATA_DIR)`,
    { path: dataDir, ...(code === undefined ? {} : { errno: code }) }, { cause: err })
}
