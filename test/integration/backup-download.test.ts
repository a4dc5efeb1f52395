/**
 * `certmq backup` against servers that answer badly, each a few lines of node:http standing in
 * for the admin API: a file that does not match the SHA-256 the server sent is not kept (exit 5);
 * a connection lost in the middle of the file is the admin API gone (ADMIN_UNREACHABLE, exit 3),
 * not a bug (INTERNAL), and keeps no file; `certmq backup -` whose reader goes away does not exit 0.
 */
import { createHash } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import { existsSync, readdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCertmqCli, runCertmqCliIntoClosedPipe } from '../helpers/cli.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-backup-download-')
const TOKEN = 'some-token-0123456789abcdef'

/**
 * A server that answers every request with a backup's headers (`sha256` as its checksum, `length`
 * as its size when given), then lets `send` write the body. Started before the file's tests of
 * one describe, closed after them; `url()` is its address.
 */
function backupServer (sha256: string, length: number | undefined, send: (response: ServerResponse) => void): () => string {
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      ...(length === undefined ? {} : { 'content-length': String(length) }),
      'x-certmq-backup-sha256': sha256,
      'content-disposition': 'attachment; filename="certmq-backup-x.mdb"'
    })
    send(response)
  })
  beforeAll(async () => { await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)) })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('certmq backup against a server whose answer does not match its SHA-256', () => {
  const url = backupServer('0'.repeat(64), undefined, (response) => { response.end(Buffer.alloc(4096, 1)) })

  it('keeps no file and exits 5', async () => {
    const file = join(tempDir(), 'damaged.mdb')
    const run = await runCertmqCli(['backup', file], url(), TOKEN)
    expect(run.code).toBe(5)
    expect(run.stderr).toContain('error BACKUP_INVALID: the backup received does not match')
    expect(existsSync(file)).toBe(false)
  })
})

describe('certmq backup when the connection is cut mid-download', () => {
  // half the file, then the connection goes (the broker stopped while sending)
  const url = backupServer('0'.repeat(64), 65536, (response) => {
    response.write(Buffer.alloc(32768, 1), () => { setTimeout(() => { response.socket?.destroy() }, 50) })
  })

  it('exits 3 with ADMIN_UNREACHABLE and keeps no file', async () => {
    const dir = tempDir()
    const file = join(dir, 'cut.mdb')
    const run = await runCertmqCli(['backup', file], url(), TOKEN)
    expect(run.stderr).toContain('error ADMIN_UNREACHABLE')
    expect(run.stderr).toContain('cut off')
    expect(run.code).toBe(3)
    expect(existsSync(file)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('certmq backup - when the reader of standard output goes away', () => {
  const body = Buffer.alloc(256 * 1024, 7)
  const url = backupServer(createHash('sha256').update(body).digest('hex'), body.length, (response) => { response.end(body) })

  it('does not exit 0: the pipeline kept part of the backup at most', async () => {
    const run = await runCertmqCliIntoClosedPipe(['backup', '-'], { CERTMQ_ADMIN_URL: url(), CERTMQ_ADMIN_TOKEN: TOKEN })
    expect(run.stderr).toContain('error BACKUP_INVALID')
    expect(run.code).toBe(5)
  })
})
