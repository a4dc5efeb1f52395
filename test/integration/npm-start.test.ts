/**
 * The README's start command, `npm start`, under a supervisor that signals only the process it
 * started (docker's `CMD ["npm", "start"]`, pm2, systemd with KillMode=process): SIGTERM to npm
 * must stop the broker cleanly, not leave it running under init holding its ports and its lock.
 * Runs the compiled build (dist/, made by `npm install`'s prepare step).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { REPO_ROOT as ROOT } from '../helpers/tsx.js'

const built = existsSync(join(ROOT, 'dist', 'main.js'))
if (!built && process.env['CI'] === undefined) console.warn('skipping the npm start test: no dist/ (run npm run build)')

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const tempDir = tempDirs('certmq-npm-start-')

describe.skipIf(!built && process.env['CI'] === undefined)('npm start', () => {
  it('stops the broker cleanly when npm alone gets SIGTERM', async () => {
    const dataDir = tempDir()
    const child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CERTMQ_DATA_DIR: dataDir, CERTMQ_MQTTS_HOST: '127.0.0.1', CERTMQ_MQTTS_PORT: '0', CERTMQ_ADMIN_PORT: '0',
        CERTMQ_ADMIN_TOKEN: 'npm-start-token-0123456789'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
    const lines = (): Array<Record<string, unknown>> => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    let brokerPid: number | undefined
    try {
      const started = await waitFor(() => lines().find((l) => l['event'] === 'server.started'), { timeoutMs: 30_000, what: 'server.started' })
      brokerPid = started['pid'] as number
      expect(brokerPid).not.toBe(child.pid)
      child.kill('SIGTERM')
      await exited
      await waitFor(() => !alive(brokerPid!), { timeoutMs: 10_000, what: `broker pid ${brokerPid} to exit` })
      expect(lines().some((l) => l['event'] === 'server.stopped'), 'a clean stop, not a kill').toBe(true)
    } finally {
      child.kill('SIGKILL')
      if (brokerPid !== undefined && alive(brokerPid)) process.kill(brokerPid, 'SIGKILL')
    }
  })
})
