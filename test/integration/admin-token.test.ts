/**
 * The built-in admin token across starts (docs/operations.md "The admin token"): a generated
 * token is stored only once a start has succeeded, and a configured token retires it unless it is
 * that same token. A whole certmq in this process, every listener on port 0 unless a test needs a
 * busy one.
 */
import { createServer, type Server } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { createLogger } from '../../src/log.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { LogSink } from '../helpers/log-sink.js'

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function freshDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certmq-token-'))
  dirs.push(dir)
  return dir
}

async function start (dataDir: string, env: Record<string, string> = {}): Promise<{ server: RunningServer, logs: LogSink, banner: string }> {
  const { config } = loadConfig({
    cwd: dataDir,
    env: { CERTMQ_DATA_DIR: dataDir, CERTMQ_MQTTS_HOST: '127.0.0.1', CERTMQ_MQTTS_PORT: '0', CERTMQ_ADMIN_PORT: '0', ...env }
  })
  const logs = new LogSink()
  const banner = new LogSink()
  const server = await startServer(config, { logger: createLogger('info', logs), console: banner })
  return { server, logs, banner: banner.raw.join('\n') }
}

/** A first start in a fresh data directory, stopped: the directory and the token it generated. */
async function firstStart (): Promise<{ dataDir: string, generated: string }> {
  const dataDir = await freshDir()
  const first = await start(dataDir)
  const generated = first.server.generatedAdminToken!
  expect(generated).toMatch(/^cmq_/)
  await first.server.stop()
  return { dataDir, generated }
}

async function status (server: RunningServer, token: string): Promise<number> {
  return (await fetch(`${server.adminUrl}/api/v1/cas`, { headers: { authorization: `Bearer ${token}` } })).status
}

async function busyPort (): Promise<{ port: number, close: () => Promise<void> }> {
  const blocker: Server = createServer()
  await new Promise<void>((resolve) => { blocker.listen(0, '127.0.0.1', resolve) })
  const { port } = blocker.address() as { port: number }
  return { port, close: async () => { await new Promise<void>((resolve) => { blocker.close(() => { resolve() }) }) } }
}

describe('the built-in admin token', () => {
  it('is stored only when the start succeeds, so a failed first start does not lose it', async () => {
    const dataDir = await freshDir()
    const busy = await busyPort()
    try {
      // the admin listener is the last to start: the token was already generated when it fails
      await expect(start(dataDir, { CERTMQ_ADMIN_HOST: '127.0.0.1', CERTMQ_ADMIN_PORT: String(busy.port) })).rejects.toThrow(/EADDRINUSE|in use/i)
    } finally {
      await busy.close()
    }
    const { server, banner } = await start(dataDir)
    try {
      const token = server.generatedAdminToken
      expect(token, 'the start after a failed one generates and shows a token').toBeDefined()
      expect(banner).toContain(token)
      expect(await status(server, token!)).toBe(200)
    } finally {
      await server.stop()
    }
    // and this one was stored: the next start shows none and still accepts it
    const again = await start(dataDir)
    try {
      expect(again.server.generatedAdminToken).toBeUndefined()
      expect(again.banner).not.toContain('cmq_')
    } finally {
      await again.server.stop()
    }
  })

  it('is retired by a configured token, which is never stored: the next start without one shows a new token', async () => {
    const { dataDir, generated } = await firstStart()

    const configured = 'configured-token-0123456789'
    const second = await start(dataDir, { CERTMQ_ADMIN_TOKEN: configured })
    try {
      expect(await status(second.server, configured)).toBe(200)
      expect(await status(second.server, generated)).toBe(401)
      expect(second.logs.events('admin.token_retired')).toHaveLength(1)
      expect(second.logs.raw.join('\n')).not.toContain(configured)
    } finally {
      await second.server.stop()
    }

    // without the variable: the lost token stays retired, the configured one was only valid while set
    const third = await start(dataDir)
    try {
      const renewed = third.server.generatedAdminToken
      expect(renewed).toMatch(/^cmq_/)
      expect(third.banner).toContain(renewed)
      expect(await status(third.server, renewed!)).toBe(200)
      expect(await status(third.server, generated)).toBe(401)
      expect(await status(third.server, configured)).toBe(401)
      expect(third.logs.events('admin.token_retired')).toHaveLength(0)
    } finally {
      await third.server.stop()
    }
  })

  it('is kept, not retired, by a configured token equal to it: exported for the CLI as the banner says, it still works after a start without it', async () => {
    const { dataDir, generated } = await firstStart()

    // the shell where the operator ran `export CERTMQ_ADMIN_TOKEN=<generated>` for the CLI
    const second = await start(dataDir, { CERTMQ_ADMIN_TOKEN: generated })
    try {
      expect(await status(second.server, generated)).toBe(200)
      expect(second.server.generatedAdminToken).toBeUndefined()
      expect(second.logs.events('admin.token_retired')).toHaveLength(0)
      expect(second.logs.raw.join('\n')).not.toContain(generated)
      expect(second.banner).not.toContain(generated)
    } finally {
      await second.server.stop()
    }

    const third = await start(dataDir)
    try {
      expect(third.server.generatedAdminToken, 'no new token: the stored one was kept').toBeUndefined()
      expect(third.banner).not.toContain('cmq_')
      expect(await status(third.server, generated)).toBe(200)
    } finally {
      await third.server.stop()
    }
  })

  it('works when configured shorter than 16 characters, with a warning at start that does not show it', async () => {
    const dataDir = await freshDir()
    const { server, logs } = await start(dataDir, { CERTMQ_ADMIN_TOKEN: 'tiny-tok' })
    try {
      expect(await status(server, 'tiny-tok')).toBe(200)
      expect(logs.events('config.unsafe')).toEqual([expect.objectContaining({ key: 'admin.token' })])
      expect(logs.events('config.unsafe')[0]).not.toHaveProperty('length')
      expect(logs.raw.join('\n')).not.toContain('tiny-tok')
    } finally {
      await server.stop()
    }
  })
})
