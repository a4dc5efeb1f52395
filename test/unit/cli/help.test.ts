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

  it('prints no default as raw JSON in any command\'s help ([], null, Infinity)', async () => {
    const commandsOf = (text: string): string[] => {
      const section = text.split(/^Commands:$/m)[1] ?? ''
      return section.split('\n').map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1]).filter((name): name is string => name !== undefined && name !== 'help')
    }
    const pages: Array<[string, string]> = []
    for (const command of commandsOf(await help([]))) {
      const text = await help([command])
      pages.push([command, text])
      for (const sub of commandsOf(text)) pages.push([`${command} ${sub}`, await help([command, sub])])
    }
    expect(pages.length).toBeGreaterThan(10)
    const raw = pages.filter(([, text]) => /\(default: (\[\]|null|Infinity)\)/.test(text)).map(([name]) => name)
    expect(raw).toEqual([])
  })
})
