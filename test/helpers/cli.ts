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
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, CERTMQ_ADMIN_URL: adminUrl, CERTMQ_ADMIN_TOKEN: token },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  child.stdin.end(input)
  return await collect(child)
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

function spawnCertmq (args: string[], env: NodeJS.ProcessEnv): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
}

async function collect (child: ChildProcessByStdio<null, Readable, Readable> | ChildProcessByStdio<Writable, Readable, Readable>): Promise<CliRun> {
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
