/**
 * POST /api/v1/backup over a real socket: the copy made for a client that has gone is not left in
 * the data directory.
 */
import { readdirSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../src/admin/app.js'
import { AdminTokens } from '../../src/admin/admin-tokens.js'
import { createLogger } from '../../src/log.js'
import { BackupService } from '../../src/registry/backup-service.js'
import { CaService } from '../../src/registry/ca-service.js'
import { CertificateService } from '../../src/registry/certificate-service.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LocalStatusBus } from '../../src/store/local-status-bus.js'
import { LogSink } from '../helpers/log-sink.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { waitFor } from '../helpers/wait-for.js'

const tempDir = tempDirs('certmq-backup-route-')
const TOKEN = 'backup-route-token-0123456789abcdef'
const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('POST /api/v1/backup', () => {
  it('removes the copy when the client leaves while it is being made (a CLI timeout on a large store, Ctrl-C)', async () => {
    const dataDir = tempDir()
    const now = (): Date => new Date()
    const store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
    await store.open()
    cleanups.push(async () => { await store.close() })
    await store.setMeta('hello', 'world')
    // the copy takes as long as the test says: long enough for the client to give up first
    let entered: () => void = () => {}
    const copying = new Promise<void>((resolve) => { entered = resolve })
    let letGo: () => void = () => {}
    const gate = new Promise<void>((resolve) => { letGo = resolve })
    const slow = { backup: async (into: string) => { entered(); await gate; return await store.backup(into) } }
    const dir = join(dataDir, 'backup-tmp')
    const backups = new BackupService({ store: slow, dir, eventLog: { flush: async () => {} }, now, logger: createLogger('silent', new LogSink()) })
    const bus = new LocalStatusBus()
    const logs = new LogSink()
    const app = buildAdminApp({
      caService: new CaService({ store, bus, maxCas: 5, now }),
      certificateService: new CertificateService({ store, bus, now }),
      backups,
      auth: await AdminTokens.load(store, TOKEN, now),
      health: () => ({ mqtts: true, admin: true }),
      logger: createLogger('info', logs)
    })
    cleanups.push(async () => { await app.close(); await bus.close() })
    let serverSide: Socket | undefined
    app.server.once('connection', (socket: Socket) => { serverSide = socket })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo

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
    const next = await app.inject({ method: 'POST', url: '/api/v1/backup', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(next.statusCode).toBe(200)
  })
})
