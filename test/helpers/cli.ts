/** Runs the real `certmq` CLI as its own process (through tsx), as an operator would. */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'

const ROOT = join(import.meta.dirname, '..', '..')

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** `certmq …args` with CERTMQ_ADMIN_URL and CERTMQ_ADMIN_TOKEN set; `env` overrides them. */
export async function runCertmqCli (args: string[], adminUrl: string, token: string, env: Record<string, string> = {}): Promise<CliRun> {
  return await collect(spawnCertmq(args, { ...process.env, CERTMQ_ADMIN_URL: adminUrl, CERTMQ_ADMIN_TOKEN: token, ...env }))
}

/** `certmq …args` reading `input` on its standard input (`cat ca.pem | certmq ca register -`). */
export async function runCertmqCliWithStdin (args: string[], adminUrl: string, token: string, input: string): Promise<CliRun> {
  return await collect(spawnCertmq(args, { ...process.env, CERTMQ_ADMIN_URL: adminUrl, CERTMQ_ADMIN_TOKEN: token }, input))
}

/**
 * `certmq …args | <a reader that has already gone away>`: the read end of its stdout is closed
 * right after the spawn, long before node has loaded the CLI, so its first write to stdout fails
 * with EPIPE every time (a real `| head` closes at a moment that races with the writes).
 */
export async function runCertmqCliIntoClosedPipe (args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawnCertmq(args, { ...process.env, ...env })
  child.stdout.destroy()
  return await collect(child)
}

/** The CLI as its own process; its standard input holds `input` (nothing by default) and ends. */
function spawnCertmq (args: string[], env: NodeJS.ProcessEnv, input = ''): ChildProcessByStdio<Writable, Readable, Readable> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe']
  })
  child.stdin.end(input)
  return child
}

async function collect (child: ChildProcessByStdio<Writable, Readable, Readable>): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  return { code, stdout, stderr }
}
