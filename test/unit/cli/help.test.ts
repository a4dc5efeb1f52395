/**
 * What `certmq <command> --help` says about defaults: commander prints a default as JSON unless
 * it is given words, and some defaults (Infinity) have no JSON.
 */
import { describe, expect, it } from 'vitest'
import { runCli } from '../../../src/cli/index.js'

async function help (argv: string[]): Promise<string> {
  let stdout = ''
  const code = await runCli([...argv, '--help'], {
    env: {},
    stdout: { write: (text: string) => { stdout += text; return true } },
    stderr: { write: () => true }
  })
  expect(code).toBe(0)
  return stdout
}

describe('certmq --help', () => {
  it('says how many times simulate retries a device by default, not "null"', async () => {
    const text = await help(['simulate'])
    expect(text).toMatch(/--retries <n>\s+retries per device after a refusal or failure\s+\(default: until the end\)/)
    expect(text).not.toContain('null')
  })
})
