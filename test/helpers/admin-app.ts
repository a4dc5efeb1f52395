/**
 * The admin API over real services and a fresh embedded store, without the broker: what the API
 * and CLI tests stand on. Optional event log and backups; listen() when a child process (the CLI)
 * needs a URL, call() for fastify inject with the token.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildAdminApp } from '../../src/admin/app.js'
import type { BackupBackend } from '../../src/admin/thread/backend.js'
import { AdminTokens } from '../../src/admin/admin-tokens.js'
import { AuditTrail } from '../../src/events/audit-trail.js'
import { createLogger } from '../../src/log.js'
import { CaService } from '../../src/registry/ca-service.js'
import { CertificateService } from '../../src/registry/certificate-service.js'
import { EmbeddedEventLog } from '../../src/store/embedded/embedded-event-log.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LocalStatusBus } from '../../src/store/local-status-bus.js'
import { LogSink } from './log-sink.js'
import { OpenSslPki } from './openssl.js'

export interface TestAdmin {
  pki: OpenSslPki
  dataDir: string
  store: EmbeddedRegistryStore
  bus: LocalStatusBus
  app: FastifyInstance
  token: string
  /** The admin app's log lines. */
  logs: LogSink
  /** Listens on 127.0.0.1 port 0; the admin URL. */
  listen: () => Promise<string>
  /** One request through fastify inject, with the bearer token. */
  call: <T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => Promise<{ status: number; body: T }>
  close: () => Promise<void>
}

export async function startTestAdmin (options: {
  name: string
  token: string
  now?: () => Date
  events?: boolean
  /** POST /api/v1/backup over this store and data directory; the route is absent without it. */
  backups?: (store: EmbeddedRegistryStore, dataDir: string) => BackupBackend
}): Promise<TestAdmin> {
  const now = options.now ?? (() => new Date())
  const pki = await OpenSslPki.create()
  const dataDir = await mkdtemp(join(tmpdir(), `certmq-${options.name}-`))
  const store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
  await store.open()
  const bus = new LocalStatusBus()
  const logs = new LogSink()
  const eventLog = options.events === true ? new EmbeddedEventLog({ table: () => store.eventTable(), now }) : undefined
  const events = eventLog === undefined
    ? undefined
    : new AuditTrail({ log: eventLog, now, rejectionWindowMs: 60_000, logger: createLogger('silent', new LogSink()) })
  const app = buildAdminApp({
    caService: new CaService({ store, bus, maxCas: 50, now, ...(events === undefined ? {} : { events }) }),
    certificateService: new CertificateService({ store, bus, now, ...(events === undefined ? {} : { events }) }),
    ...(eventLog === undefined ? {} : { eventLog }),
    ...(options.backups === undefined ? {} : { backups: options.backups(store, dataDir) }),
    auth: await AdminTokens.load(store, options.token, now),
    health: () => ({ mqtts: true, admin: true }),
    logger: createLogger('info', logs)
  })
  await app.ready()
  return {
    pki,
    dataDir,
    store,
    bus,
    app,
    token: options.token,
    logs,
    listen: async () => {
      await app.listen({ host: '127.0.0.1', port: 0 })
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    },
    call: async <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => {
      const res = await app.inject({
        method, url, headers: { authorization: `Bearer ${options.token}` }, ...(body === undefined ? {} : { payload: body as Record<string, unknown> })
      })
      return { status: res.statusCode, body: (res.body === '' ? undefined : res.json()) as T }
    },
    close: async () => {
      await app.close()
      await eventLog?.close()
      await store.close()
      await bus.close()
      await pki.cleanup()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}
