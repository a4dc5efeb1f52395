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

/**
 * Every child started here that has not exited yet: a test that fails before its own stop would
 * leave a certmq running (holding ports and its data dir) past the test file.
 */
const running = new Set<ChildProcess>()

/** Records `child` until it exits, for killSurvivors. */
export function track (child: ChildProcess): void {
  running.add(child)
  child.once('exit', () => { running.delete(child) })
}

/** SIGKILLs every child still running and waits for them; for afterEach / afterAll of each file using serve(). */
export async function killSurvivors (): Promise<void> {
  await Promise.all([...running].map(async (child) => {
    const exited = new Promise((resolve) => { child.once('exit', resolve) })
    // exitCode and signalCode are set before 'exit' is emitted: not waiting for one that came
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  }))
}

/**
 * Sends `signal` and resolves with the exit code; a process still running after `timeoutMs` is
 * killed with SIGKILL and the stop fails, so a hung shutdown shows instead of outliving the test.
 */
export async function stop (proc: ServeProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
  proc.child.kill(signal)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => { resolve('late') }, timeoutMs) })
  const code = await Promise.race([proc.exited, late]).finally(() => { clearTimeout(timer) })
  if (code !== 'late') return code
  proc.child.kill('SIGKILL')
  await proc.exited
  throw new Error(`certmq did not exit within ${timeoutMs} ms of ${signal}: killed with SIGKILL; stderr: ${proc.stderr()}`)
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
  track(child)
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
  let started: Record<string, unknown> & { admin?: string; mqtts?: string }
  try {
    started = await waitFor(() => {
      if (exitCode !== undefined) throw new Error(`certmq exited with ${exitCode}: ${stderr}`)
      return stdout.map((l) => JSON.parse(l) as Record<string, unknown> & { event?: string; admin?: string; mqtts?: string }).find((l) => l.event === 'server.started')
    }, { timeoutMs: 30_000, what: 'server.started' })
  } catch (err) {
    // nobody gets a handle on a process that never started: it is ended here
    child.kill('SIGKILL')
    await exited
    throw err
  }
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
