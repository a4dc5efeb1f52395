/**
 * `certmq restore`: puts a backup (POST /api/v1/backup, `certmq backup`) in place of the embedded
 * store of a data directory, while no certmq runs on it. Nothing is lost on the way: the store it
 * replaces is kept beside it (`registry.replaced-<time>/`), and the backup is checked in full on a
 * copy before anything in the data directory changes. The swap itself is one rename.
 */
import { spawn } from 'node:child_process'
import { copyFile, link, mkdir, mkdtemp, open as openFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CertmqError, isCertmqError } from '../../errors.js'
import { childProcessArgs } from '../../thread/worker-entry.js'
import type { BackupCheck } from './backup-check.js'
import { BACKUP_FILE, REGISTRY_DIR } from './databases.js'
import { acquireProcessLock } from './process-lock.js'

export interface RestoreResult extends BackupCheck {
  /** The store directory restored into. */
  registry: string
  /** Where the store it replaced was kept; null when there was none. */
  replaced: string | null
}

/** LMDB's meta page: its magic number (0xBEEFC0DE, little-endian) 24 bytes into the file. */
const LMDB_MAGIC = 0xbeefc0de
const MAGIC_OFFSET = 24
/** The check of a backup reads every record: 100,000 certificates (282 MB) took about a second. */
const CHECK_TIMEOUT_MS = 10 * 60 * 1000

/**
 * Restores `backupFile` into the embedded store of data directory `dataDir`. Throws
 * VALIDATION_FAILED when the file cannot be read, BACKUP_INVALID when it is not a whole certmq
 * store, STORE_UNAVAILABLE when a certmq runs on the directory or it cannot be written.
 */
export async function restoreRegistry (backupFile: string, dataDir: string, now: Date): Promise<RestoreResult> {
  await checkHeader(backupFile)
  const registryDir = join(dataDir, REGISTRY_DIR)
  const fail = (operation: string, err: unknown): CertmqError => new CertmqError('STORE_UNAVAILABLE',
    `restore into ${registryDir}: could not ${operation}: ${(err as Error).message}`, { path: registryDir, operation }, { cause: err })
  try {
    await mkdir(registryDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw fail('create the directory', err)
  }
  // the lock a running certmq holds: a restore under it would be overwritten or corrupt the store
  let release: () => void
  try {
    ({ release } = acquireProcessLock(registryDir))
  } catch (err) {
    const pid = isCertmqError(err) ? err.details['pid'] : undefined
    throw new CertmqError('STORE_UNAVAILABLE', typeof pid === 'number'
      ? `${registryDir} is in use by process ${pid}: stop certmq before restoring`
      : `${registryDir}: ${(err as Error).message}`, { path: registryDir }, { cause: err })
  }
  let stage: string | undefined
  try {
    try {
      stage = await mkdtemp(join(dataDir, '.restore-'))
      await copyFile(backupFile, join(stage, BACKUP_FILE))
    } catch (err) {
      throw fail('copy the backup beside it', err)
    }
    const counts = await checkInChild(stage, backupFile)
    const staged = join(stage, BACKUP_FILE)
    await fsyncPath(staged)
    const current = join(registryDir, BACKUP_FILE)
    let replaced: string | null = null
    try {
      if (await exists(current)) {
        // to the millisecond: two restores in one second keep both stores they replaced
        replaced = join(dataDir, `${REGISTRY_DIR}.replaced-${now.toISOString().replace(/[-:]/g, '')}`)
        await mkdir(replaced, { mode: 0o700 })
        // a second name for the old file first: the rename below then replaces it in one step
        await link(current, join(replaced, BACKUP_FILE))
      }
      await rename(staged, current)
      // LMDB's lock file belongs to the environment it was made for; the next open makes a new one
      await rm(join(registryDir, 'lock.mdb'), { force: true })
      await fsyncPath(registryDir)
      // the kept store's new name, too: a power cut right after must not lose the old one
      if (replaced !== null) {
        await fsyncPath(replaced)
        await fsyncPath(dataDir)
      }
    } catch (err) {
      throw fail('put the backup in place', err)
    }
    return { ...counts, registry: registryDir, replaced }
  } finally {
    if (stage !== undefined) await rm(stage, { recursive: true, force: true }).catch(() => {})
    release()
  }
}

async function checkHeader (file: string): Promise<void> {
  const header = Buffer.alloc(MAGIC_OFFSET + 4)
  let read: number
  try {
    const handle = await openFile(file, 'r')
    try {
      ({ bytesRead: read } = await handle.read(header, 0, header.length, 0))
    } finally {
      await handle.close()
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new CertmqError('VALIDATION_FAILED', `cannot read backup file ${file}: ${why}`, { path: file }, { cause: err })
  }
  if (read < header.length || header.readUInt32LE(MAGIC_OFFSET) !== LMDB_MAGIC) {
    throw new CertmqError('BACKUP_INVALID', `${file} is not a certmq backup: it does not start as an LMDB file does (make one with certmq backup)`, { path: file })
  }
}

/** backup-check.ts on the staged copy, in a process of its own: a damaged file may crash LMDB. */
async function checkInChild (stage: string, backupFile: string): Promise<BackupCheck> {
  const child = spawn(process.execPath, [...childProcessArgs(import.meta.url, 'backup-check'), stage], { stdio: ['ignore', 'pipe', 'pipe'] })
  // a file that makes LMDB loop would hold the restore for good; a whole store reads in seconds
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, CHECK_TIMEOUT_MS)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const { code, signal } = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => { resolve({ code, signal }) })
  }).finally(() => { clearTimeout(timer) })
  const invalid = (why: string): CertmqError =>
    new CertmqError('BACKUP_INVALID', `${backupFile} is not a whole certmq backup: ${why}`, { path: backupFile })
  if (timedOut) throw invalid(`reading it did not finish within ${CHECK_TIMEOUT_MS / 1000} s; the file is damaged`)
  if (signal !== null) throw invalid(`reading it crashed LMDB (${signal}); the file is damaged`)
  let answer: unknown
  try {
    answer = JSON.parse(stdout.trim().split('\n').at(-1) ?? '')
  } catch {
    throw invalid(`its check ended with code ${String(code)}: ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}`)
  }
  if (typeof answer === 'object' && answer !== null && 'error' in answer) throw invalid(String(answer.error))
  if (code !== 0) throw invalid(`its check ended with code ${String(code)}`)
  return answer as BackupCheck
}

async function fsyncPath (path: string): Promise<void> {
  const handle = await openFile(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
