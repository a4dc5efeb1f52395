/**
 * What an operator sees when certmq cannot start for a reason outside its config file: a port
 * taken, a data directory that cannot be one. The error names the setting and its environment
 * variable, and says why in words (it was `INTERNAL: listen EADDRINUSE`).
 */
import { spawn } from 'node:child_process'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.js'
import { startServer } from '../../src/server.js'
import { localConfig } from '../helpers/certmq.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { killSurvivors, track } from '../helpers/serve-process.js'
import { MAIN_TS, TSX_IMPORT } from '../helpers/tsx.js'

const tempDir = tempDirs('certmq-start-fail-')

async function occupiedPort (): Promise<{ port: number, server: Server }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, server }
}

async function start (env: Record<string, string>): Promise<unknown> {
  const dataDir = tempDir()
  const config = localConfig(dataDir, { CERTMQ_ADMIN_TOKEN: 'start-failure-token-0123456789', ...env })
  try {
    const server = await startServer(config, { logger: createLogger('silent') })
    await server.stop()
    return undefined
  } catch (err) {
    return err
  }
}

afterEach(async () => { await killSurvivors() })

describe('a start that cannot happen', () => {
  it('names the MQTTS or admin port that is taken, and its settings', async () => {
    const taken = await occupiedPort()
    try {
      expect(await start({ CERTMQ_MQTTS_PORT: String(taken.port) })).toMatchObject({
        code: 'LISTEN_FAILED',
        message: expect.stringMatching(new RegExp(`^mqtts: cannot listen on 127\\.0\\.0\\.1:${taken.port}: the port is already in use .*CERTMQ_MQTTS_PORT`))
      })
      expect(await start({ CERTMQ_ADMIN_HOST: '127.0.0.1', CERTMQ_ADMIN_PORT: String(taken.port) })).toMatchObject({
        code: 'LISTEN_FAILED',
        message: expect.stringMatching(new RegExp(`^admin: cannot listen on 127\\.0\\.0\\.1:${taken.port}: the port is already in use .*CERTMQ_ADMIN_PORT`))
      })
    } finally {
      taken.server.close()
    }
  })

  it('names a data directory that a file stands in the way of', async () => {
    const dir = tempDir()
    const file = join(dir, 'not-a-dir')
    await writeFile(file, 'x')
    expect(await start({ CERTMQ_DATA_DIR: join(file, 'data') })).toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining(`dataDir: cannot use ${join(file, 'data')} as the data directory: a file is in the way (set dataDir, or CERTMQ_DATA_DIR)`)
    })
  })

  // a child process: node's recursive mkdir spun here for ever, and a spin in this process
  // could not be timed out
  it.skipIf(process.platform !== 'linux')('names a data directory under /proc instead of hanging in mkdir (Linux: needs /proc)', async () => {
    const dataDir = `/proc/certmq-${process.pid}-${Date.now()}/data`
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, MAIN_TS, 'serve'], {
      cwd: tempDir(),
      env: { ...process.env, CERTMQ_DATA_DIR: dataDir, CERTMQ_ADMIN_TOKEN: 'start-failure-token-0123456789', CERTMQ_MQTTS_PORT: '0', CERTMQ_ADMIN_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    track(child)
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    // 'close', not 'exit': stderr may still hold unread output when the process has exited
    const code = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
    expect(stderr).toContain(`error STORE_UNAVAILABLE: dataDir: cannot use ${dataDir} as the data directory`)
    expect(code).toBe(1)
  }, 30_000)
})
