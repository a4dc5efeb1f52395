/**
 * Online backups of the registry: a consistent copy of the store made while certmq runs, which
 * the admin API hands to the operator (POST /api/v1/backup, `certmq backup`) and `certmq restore`
 * puts back. One backup is made at a time; each is written to a directory of its own under
 * `dir` (in the data directory, mode 0700) and removed by whoever sends it (`discard`).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { CertmqError } from '../errors.js'
import { ACTOR_ADMIN } from '../domain/event.js'
import type { AuditTrail } from '../events/audit-trail.js'
import { backupCreated } from '../events/change-events.js'
import type { Logger } from '../log.js'
import type { EventLog, RegistryStore } from '../store/ports.js'

/** A backup ready to be sent: the file, and what the receiver checks it against. */
export interface BackupFile {
  /** Absolute path of the copy; pass it to `discard` once sent. */
  path: string
  /** What to call it on the operator's side: `certmq-backup-<UTC time>.mdb`. */
  fileName: string
  bytes: number
  /** SHA-256 of the file, lowercase hex. */
  sha256: string
  createdAt: string
}

export interface BackupServiceDeps {
  store: Pick<RegistryStore, 'backup'>
  /** Committed before the copy, so the backup holds every event recorded until then. */
  eventLog: Pick<EventLog, 'flush'>
  /** Where copies are made: a directory certmq owns (it is emptied at start). */
  dir: string
  now: () => Date
  logger: Logger
  events?: AuditTrail
}

export class BackupService {
  private running = false

  constructor (private readonly deps: BackupServiceDeps) {}

  /** Removes copies left behind by a process that stopped while sending them. */
  async clearLeftovers (): Promise<void> {
    await rm(this.deps.dir, { recursive: true, force: true })
  }

  /** Throws BACKUP_IN_PROGRESS while another backup is being made, STORE_UNAVAILABLE when the copy fails. */
  async create (actor: string = ACTOR_ADMIN): Promise<BackupFile> {
    if (this.running) throw new CertmqError('BACKUP_IN_PROGRESS', 'a backup is being made; try again when it is done')
    this.running = true
    let workDir: string | undefined
    try {
      const createdAt = this.deps.now().toISOString()
      await mkdir(this.deps.dir, { recursive: true, mode: 0o700 })
      workDir = await mkdtemp(join(this.deps.dir, 'backup-'))
      await this.deps.eventLog.flush()
      const { file } = await this.deps.store.backup(workDir)
      const [{ size }, sha256] = await Promise.all([stat(file), sha256Of(file)])
      const backup: BackupFile = { path: file, fileName: backupFileName(createdAt), bytes: size, sha256, createdAt }
      this.deps.logger.info({ event: 'backup.created', actor, bytes: size, sha256 }, `backup of the registry made (${size} bytes) for ${actor}`)
      await this.deps.events?.recordChange(backupCreated(actor, size, sha256))
      return backup
    } catch (err) {
      if (workDir !== undefined) await rm(workDir, { recursive: true, force: true }).catch(() => {})
      throw err
    } finally {
      this.running = false
    }
  }

  /** Removes a copy `create` made; anything else is refused. */
  async discard (path: string): Promise<void> {
    const workDir = dirname(path)
    if (dirname(workDir) !== this.deps.dir || !basename(workDir).startsWith('backup-')) {
      throw new CertmqError('INTERNAL', `not a backup of this node: ${path}`)
    }
    await rm(workDir, { recursive: true, force: true })
  }
}

/** `certmq-backup-20261129T161502Z.mdb`: sorts by time, no characters a shell or a file system minds. */
export function backupFileName (createdAt: string): string {
  return `certmq-backup-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.mdb`
}

async function sha256Of (file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}
