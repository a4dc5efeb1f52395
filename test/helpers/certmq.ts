/**
 * Starts a whole certmq in this process with every listener on port 0, a fresh data dir and a
 * known admin token; returns URLs, an admin API caller and stop(). Never 1883 / 8883 / 8080.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { createLogger } from '../../src/log.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { LogSink } from './log-sink.js'

export interface TestCertmq {
  server: RunningServer
  dataDir: string
  token: string
  adminUrl: string
  mqttsPort: number
  /** PEM of the built-in CA: what devices trust the server with. */
  serverCaPem: string
  logs: LogSink
  api: <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>
  /** Stops the server; keeps the data dir when asked (restart tests). */
  stop: (options?: { keepData?: boolean }) => Promise<void>
}

/** The config of a server in `dataDir` on free ports of 127.0.0.1, with `env` on top: for tests that call startServer themselves. */
export function localConfig (dataDir: string, env: Record<string, string>): Config {
  return loadConfig({
    cwd: dataDir,
    env: { CERTMQ_DATA_DIR: dataDir, CERTMQ_MQTTS_HOST: '127.0.0.1', CERTMQ_MQTTS_PORT: '0', CERTMQ_ADMIN_PORT: '0', ...env }
  }).config
}

export async function startCertmq (env: Record<string, string> = {}, options: { dataDir?: string, config?: Record<string, unknown> } = {}):
  Promise<TestCertmq> {
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'certmq-it-'))
  // keys env cannot express (arrays such as mqtts.serverNames) go through broker.config.json
  if (options.config !== undefined) await writeFile(join(dataDir, 'broker.config.json'), JSON.stringify(options.config))
  const token = env['CERTMQ_ADMIN_TOKEN'] ?? `test-${randomBytes(12).toString('hex')}`
  const config = localConfig(dataDir, { CERTMQ_NODE_NAME: 'test-node', CERTMQ_ADMIN_TOKEN: token, ...env })
  const logs = new LogSink()
  // debug: tests read the connect.accepted lines
  const server = await startServer(config, { logger: createLogger('debug', logs) })
  const serverCaPem = await readFile(server.caCertificatePath, 'utf8')
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${server.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T }
  }
  return {
    server,
    dataDir,
    token,
    adminUrl: server.adminUrl,
    mqttsPort: server.mqtts.port,
    serverCaPem,
    logs,
    api,
    stop: async (stopOptions = {}) => {
      await server.stop()
      if (stopOptions.keepData !== true && options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true })
    }
  }
}
