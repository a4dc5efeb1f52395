/**
 * POST /api/v1/backup: a consistent copy of the registry, made while certmq runs, sent as the
 * response body (an LMDB file that `certmq restore` puts back). POST, so only the `admin` role may
 * take one: the copy holds every record, the admin token hashes among them.
 */
import { createReadStream } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { actorOf } from '../actor.js'
import type { BackupBackend } from '../thread/backend.js'

export interface BackupRouteOptions {
  backups: BackupBackend
}

/** The header with the SHA-256 of the body (lowercase hex): `certmq backup` checks what it received against it. */
export const BACKUP_SHA256_HEADER = 'x-certmq-backup-sha256'

export async function backupRoutes (app: FastifyInstance, { backups }: BackupRouteOptions): Promise<void> {
  app.post('/backup', {
    schema: {
      description: 'A consistent copy of the registry as of now, as an LMDB file (docs/operations.md, "Backup and restore"). One at a time: 409 BACKUP_IN_PROGRESS meanwhile.',
      response: {
        200: {
          description: `The backup file; header ${BACKUP_SHA256_HEADER} has its SHA-256`,
          content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
        }
      }
    }
  }, async (request, reply) => {
    const discard = (path: string): void => {
      backups.discard(path).catch((err: unknown) => {
        request.log.warn({ event: 'backup.discard_failed', err }, 'could not remove a backup copy after sending it')
      })
    }
    // once the answer is sent or the client has gone: the copy is the client's, not the server's.
    // Listened for before the copy is made: a client that leaves while it is made (its timeout on
    // a large store, Ctrl-C) has closed the response by then, and a listener added after the
    // copy would never run, leaving a whole copy of the registry in the data directory
    let made: string | undefined
    let gone = false
    reply.raw.once('close', () => {
      gone = true
      if (made !== undefined) discard(made)
    })
    const backup = await backups.create(actorOf(request))
    made = backup.path
    if (gone) {
      discard(made)
      request.log.warn({ event: 'backup.abandoned' }, 'the client left before the backup was ready; its copy was removed')
      return reply
    }
    return await reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${backup.fileName}"`)
      .header('content-length', backup.bytes)
      .header(BACKUP_SHA256_HEADER, backup.sha256)
      .header('cache-control', 'no-store')
      .send(createReadStream(backup.path))
  })
}
