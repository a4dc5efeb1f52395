/**
 * The admin thread's entry: the admin HTTP API (fastify, its schemas and validators, OpenAPI)
 * runs here, in its own V8 isolate, so the broker's heap does not hold it: every major GC of
 * the broker's thread marks that heap while devices connect. Routes reach the registry through
 * calls into the broker's thread (rpc.ts); tokens are checked here against the hashes the broker
 * handed over; log lines go to the broker's logger, so there is one log stream.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { buildAdminApp } from '../app.js'
import { AdminTokens, type SharedTokens } from '../admin-tokens.js'
import { createLogger } from '../../log.js'
import {
  BACKUP_METHODS, CA_METHODS, CERTIFICATE_METHODS, EVENT_METHODS, STATUS_METHODS,
  type BackupBackend, type CaBackend, type CertificateBackend, type EventBackend, type StatusBackend
} from './backend.js'
import { serializeError } from '../../thread/errors.js'
import { RpcClient, remote, type ToAdmin, type ToBroker } from './rpc.js'
import { within } from '../../timers.js'

export interface AdminWorkerData {
  host: string
  port: number
  logLevel: string
  tokens: SharedTokens
  metrics: { contentType: string, requireToken: boolean }
}

/** How long /healthz waits for the broker's thread before it reports the MQTTS side down. */
const HEALTH_TIMEOUT_MS = 2000

if (parentPort === null) throw new Error('admin/thread/worker.ts runs only as a worker thread')
const port = parentPort
const data = workerData as AdminWorkerData
const send = (message: ToBroker): void => { port.postMessage(message) }

const client = new RpcClient(send)
const status = remote<StatusBackend>(client, 'status', STATUS_METHODS)
const logger = createLogger(data.logLevel, { write: (line: string) => { send({ type: 'log', line }) } })

const health = async (): Promise<{ mqtts: boolean, admin: boolean }> => {
  // a broker thread that does not answer in time counts as down: /healthz is its liveness probe
  const mqtts = await within(status.mqtts().catch(() => false), HEALTH_TIMEOUT_MS, false)
  return { mqtts, admin: app.server.listening }
}

const app = buildAdminApp({
  caService: remote<CaBackend>(client, 'cas', CA_METHODS),
  certificateService: remote<CertificateBackend>(client, 'certificates', CERTIFICATE_METHODS),
  eventLog: remote<EventBackend>(client, 'events', EVENT_METHODS),
  backups: remote<BackupBackend>(client, 'backups', BACKUP_METHODS),
  auth: AdminTokens.fromShared(data.tokens),
  health,
  metrics: { source: { contentType: data.metrics.contentType, metrics: async () => await status.metrics() }, requireToken: data.metrics.requireToken },
  ready: async () => ({ ...await health(), store: await status.store().catch(() => false) }),
  logger
})

port.on('message', (message: ToAdmin) => {
  if (message.type === 'close') {
    app.close().then(() => { send({ type: 'closed' }) }, (err: unknown) => { send({ type: 'closed', error: serializeError(err) }) })
    return
  }
  client.settle(message)
})

try {
  await app.listen({ host: data.host, port: data.port })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error(`admin API: unexpected listen address ${String(address)}`)
  send({ type: 'listening', address })
} catch (err) {
  send({ type: 'failed', error: serializeError(err) })
}
