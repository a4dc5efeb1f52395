/** Runs the real `certmq` CLI as its own process (through tsx), as an operator would. */
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** `certmq …args` with CERTMQ_ADMIN_URL and CERTMQ_ADMIN_TOKEN set; `env` overrides them. */
export async function runCertmqCli (args: string[], adminUrl: string, token: string, env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, CERTMQ_ADMIN_URL: adminUrl, CERTMQ_ADMIN_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
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
