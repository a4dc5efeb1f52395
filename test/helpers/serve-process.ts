/** `certmq serve` as a real process on free ports, started by the tests that need one. */
import { spawn, type ChildProcess } from 'node:child_process'
import { waitFor } from './wait-for.js'
import { MAIN_TS, TSX_IMPORT } from './tsx.js'

export interface ServeProcess {
  child: ChildProcess
  stdout: string[]
  stderr: () => string
  adminUrl: string
  mqttsPort: number
  /** The server.started log line. */
  started: Record<string, unknown>
  exited: Promise<number | null>
}

/** The TypeScript source under node, as the tests run it unless they give another command. */
const SOURCE = [process.execPath, '--import', TSX_IMPORT, MAIN_TS, 'serve']

/**
 * Starts `command` (certmq serve) in `dataDir`, its data dir unless `env` names another, and
 * resolves once it logs server.started. `env` adds to this process's environment; an undefined
 * value removes that variable.
 */
export async function serve (dataDir: string, env: Record<string, string | undefined> = {}, command: readonly string[] = SOURCE): Promise<ServeProcess> {
  const merged = { ...process.env, CERTMQ_DATA_DIR: dataDir, CERTMQ_MQTTS_HOST: '127.0.0.1', CERTMQ_MQTTS_PORT: '0', CERTMQ_ADMIN_PORT: '0', ...env }
  const child = spawn(command[0]!, command.slice(1), {
    cwd: dataDir,
    env: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stdout: string[] = []
  let stderr = ''
  let partial = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n')
    partial = lines.pop() ?? ''
    stdout.push(...lines.filter((l) => l.trim() !== ''))
  })
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  let exitCode: number | null | undefined
  void exited.then((code) => { exitCode = code })
  const started = await waitFor(() => {
    if (exitCode !== undefined) throw new Error(`certmq exited with ${exitCode}: ${stderr}`)
    return stdout.map((l) => JSON.parse(l) as Record<string, unknown> & { event?: string; admin?: string; mqtts?: string }).find((l) => l.event === 'server.started')
  }, { timeoutMs: 30_000, what: 'server.started' })
  return {
    child,
    stdout,
    stderr: () => stderr,
    adminUrl: started.admin!,
    mqttsPort: Number(new URL(started.mqtts!.replace('mqtts:', 'http:')).port),
    started,
    exited
  }
}
