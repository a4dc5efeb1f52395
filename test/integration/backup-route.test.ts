/**
 * POST /api/v1/backup over a real socket: the copy made for a client that has gone is not left in
 * the data directory.
 */
import { readdirSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.js'
import { BackupService } from '../../src/registry/backup-service.js'
import { startTestAdmin } from '../helpers/admin-app.js'
import { LogSink } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

const TOKEN = 'backup-route-token-0123456789abcdef'
const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('POST /api/v1/backup', () => {
  it('removes the copy when the client leaves while it is being made (a CLI timeout on a large store, Ctrl-C)', async () => {
    // the copy takes as long as the test says: long enough for the client to give up first
    let entered: () => void = () => {}
    const copying = new Promise<void>((resolve) => { entered = resolve })
    let letGo: () => void = () => {}
    const gate = new Promise<void>((resolve) => { letGo = resolve })
    let dir = ''
    const admin = await startTestAdmin({
      name: 'backup-route',
      token: TOKEN,
      backups: (store, dataDir) => {
        dir = join(dataDir, 'backup-tmp')
        const slow = { backup: async (into: string) => { entered(); await gate; return await store.backup(into) } }
        return new BackupService({ store: slow, dir, eventLog: { flush: async () => {} }, now: () => new Date(), logger: createLogger('silent', new LogSink()) })
      }
    })
    cleanups.push(admin.close)
    await admin.store.setMeta('hello', 'world')
    let serverSide: Socket | undefined
    admin.app.server.once('connection', (socket: Socket) => { serverSide = socket })
    const { port } = new URL(await admin.listen())

    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/backup', headers: { authorization: `Bearer ${TOKEN}` } })
    request.on('error', () => {})
    request.end()
    await copying
    // the client gives up, and the server has seen it go, before the copy is ready
    const closed = once(serverSide!, 'close')
    request.destroy()
    await closed
    expect(readdirSync(dir)).toHaveLength(1)
    letGo()
    await waitFor(() => readdirSync(dir).length === 0, { timeoutMs: 3000, what: 'the abandoned backup copy to be removed' })
    // and the next backup is made as usual
    const next = await admin.app.inject({ method: 'POST', url: '/api/v1/backup', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(next.statusCode).toBe(200)
  })
})
