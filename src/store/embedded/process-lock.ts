/**
 * One certmq process per embedded store: the store's uniqueness checks rely on being the only
 * writer. A lock file names the owner: its pid and, on Linux, the boot it runs in and when it
 * started, so a pid reused after a crash and a reboot is not mistaken for the owner. A lock left
 * by a process that no longer runs (after kill -9) is taken over.
 *
 * Every step is atomic on a local file system: the lock appears whole (written aside, then
 * hard-linked into place: a link fails if the name exists), a stale one is taken away by one
 * process at a time under a takeover mark placed the same way, and release removes only our own.
 */
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CertmqError } from '../../errors.js'

export const LOCK_FILE = 'certmq.lock'

/** Who holds a lock. bootId and startTime are left out where /proc does not have them. */
interface Owner {
  pid: number
  bootId?: string
  startTime?: string
}

/**
 * Takes the lock. `tookOver` says a lock was left behind: the process that held the store before
 * did not close it (kill -9, power loss), so what it would have written at close is missing.
 */
export function acquireProcessLock (dir: string): { release: () => void, tookOver: boolean } {
  const file = join(dir, LOCK_FILE)
  const ours = `${JSON.stringify(ownerOf(process.pid))}\n`
  let tookOver = false
  for (let attempt = 0; attempt < 3; attempt++) {
    if (placeLock(dir, file, ours)) {
      const release = (): void => {
        // not a lock that replaced ours (taken over by an operator's mistake): only our own
        if (readOrUndefined(file) === ours) {
          try { unlinkSync(file) } catch { /* already gone */ }
        }
      }
      return { release, tookOver }
    }
    const held = readOrUndefined(file)
    if (held === undefined) continue // released meanwhile: try again
    const owner = parseOwner(held)
    if (owner !== undefined && owner.pid !== process.pid && isRunning(owner)) {
      throw new CertmqError('STORE_UNAVAILABLE',
        `embedded store at ${dir} is in use by process ${owner.pid}; stop it or give this node another data directory`,
        { path: dir, pid: owner.pid })
    }
    // stale (its process is gone, or unreadable) or our own: take it away, unless another
    // process did first and has placed its own meanwhile
    if (takeAway(file, held)) tookOver = true
  }
  throw new CertmqError('STORE_UNAVAILABLE', `embedded store at ${dir}: could not take ${LOCK_FILE} (another process is taking it at the same time)`, { path: dir })
}

/** Puts `content` at `file` whole, if nothing is there. */
function placeLock (dir: string, file: string, content: string): boolean {
  try {
    return linkWhole(file, content)
  } catch (err) {
    throw new CertmqError('STORE_UNAVAILABLE', `embedded store at ${dir}: cannot create ${LOCK_FILE} (${(err as Error).message})`, { path: dir }, { cause: err })
  }
}

/**
 * Writes `content` beside `file`, then hard-links it into place: false when `file` exists (a
 * link never replaces), so `file` appears whole or not at all. Other errors are thrown.
 */
function linkWhole (file: string, content: string): boolean {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    writeFileSync(aside, content, { flag: 'wx', mode: 0o600 })
    linkSync(aside, file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    try { unlinkSync(aside) } catch { /* not written */ }
  }
}

/** A takeover mark older than this was left by a process that died taking over: ignored. */
const TAKEOVER_STALE_MS = 10_000

/**
 * Removes the stale lock whose content is `stale`, under a takeover mark (placed like the lock
 * itself) so that one process at a time takes over: it reads the lock again under the mark and
 * removes it only if it still holds what was judged stale, never a lock placed meanwhile.
 */
function takeAway (file: string, stale: string): boolean {
  const mark = `${file}.takeover`
  if (!placeMark(mark)) return false
  try {
    if (readOrUndefined(file) !== stale) return false
    unlinkSync(file)
    return true
  } catch {
    return false
  } finally {
    try { unlinkSync(mark) } catch { /* nothing to clean */ }
  }
}

function placeMark (mark: string): boolean {
  try {
    if (linkWhole(mark, `${process.pid}\n`)) return true
  } catch {
    return false
  }
  // another process is taking over; unless its mark is old (it died doing so): then take it
  // away by rename, which only one process can do, and let the next attempt place a new one
  const old = `${mark}.old.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    if (Date.now() - statSync(mark).mtimeMs > TAKEOVER_STALE_MS) {
      renameSync(mark, old)
      unlinkSync(old)
    }
  } catch { /* not old, or gone */ }
  return false
}

function readOrUndefined (file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The JSON this module writes, or the bare pid written before 2026-11-29. */
function parseOwner (content: string): Owner | undefined {
  const text = content.trim()
  if (/^\d+$/.test(text)) return { pid: Number(text) }
  try {
    const parsed = JSON.parse(text) as Partial<Owner>
    if (!Number.isInteger(parsed.pid)) return undefined
    return {
      pid: parsed.pid!,
      ...(typeof parsed.bootId === 'string' ? { bootId: parsed.bootId } : {}),
      ...(typeof parsed.startTime === 'string' ? { startTime: parsed.startTime } : {})
    }
  } catch {
    return undefined
  }
}

/** `owner` still runs: its pid exists and, where the lock says, in the same boot and since the same start. */
function isRunning (owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const now = ownerOf(owner.pid)
  if (owner.bootId !== undefined && now.bootId !== undefined && owner.bootId !== now.bootId) return false
  if (owner.startTime !== undefined && now.startTime !== undefined && owner.startTime !== now.startTime) return false
  return true
}

/** What identifies process `pid` here: on Linux the boot and its start time (clock ticks after boot). */
function ownerOf (pid: number): Owner {
  const owner: Owner = { pid }
  const bootId = readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim()
  if (bootId !== undefined && bootId !== '') owner.bootId = bootId
  const stat = readOrUndefined(`/proc/${pid}/stat`)
  // the fields after the command name, which may itself hold spaces and parentheses
  const startTime = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  if (startTime !== undefined && /^\d+$/.test(startTime)) owner.startTime = startTime
  return owner
}
