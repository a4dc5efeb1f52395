/**
 * `certmq backup` against a server whose connection is lost in the middle of the file: the CLI
 * says the admin API went away (ADMIN_UNREACHABLE, exit 3), not that it has a bug (INTERNAL), and
 * keeps no file. `certmq backup -` whose reader goes away does not exit 0.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { existsSync, readdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCertmqCli, runCertmqCliIntoClosedPipe } from '../helpers/cli.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-backup-download-')

describe('certmq backup when the connection is cut mid-download', () => {
  let fake: Server
  let url: string

  beforeAll(async () => {
    fake = createServer((_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': '65536',
        'x-certmq-backup-sha256': '0'.repeat(64),
        'content-disposition': 'attachment; filename="certmq-backup-x.mdb"'
      })
      // half the file, then the connection goes (the broker stopped while sending)
      response.write(Buffer.alloc(32768, 1), () => { setTimeout(() => { response.socket?.destroy() }, 50) })
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    fake.closeAllConnections()
    await new Promise<void>((resolve) => fake.close(() => { resolve() }))
  })

  it('exits 3 with ADMIN_UNREACHABLE and keeps no file', async () => {
    const dir = tempDir()
    const file = join(dir, 'cut.mdb')
    const run = await runCertmqCli(['backup', file], url, 'some-token-0123456789abcdef')
    expect(run.stderr).toContain('error ADMIN_UNREACHABLE')
    expect(run.stderr).toContain('cut off')
    expect(run.code).toBe(3)
    expect(existsSync(file)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('certmq backup - when the reader of standard output goes away', () => {
  let fake: Server
  let url: string
  const body = Buffer.alloc(256 * 1024, 7)

  beforeAll(async () => {
    fake = createServer((_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
        'x-certmq-backup-sha256': createHash('sha256').update(body).digest('hex'),
        'content-disposition': 'attachment; filename="certmq-backup-x.mdb"'
      })
      response.end(body)
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    fake.closeAllConnections()
    await new Promise<void>((resolve) => fake.close(() => { resolve() }))
  })

  it('does not exit 0: the pipeline kept part of the backup at most', async () => {
    const run = await runCertmqCliIntoClosedPipe(['backup', '-'], { CERTMQ_ADMIN_URL: url, CERTMQ_ADMIN_TOKEN: 'some-token-0123456789abcdef' })
    expect(run.stderr).toContain('error BACKUP_INVALID')
    expect(run.code).toBe(5)
  })
})
