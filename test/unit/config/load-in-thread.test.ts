import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'
import { loadConfigInThread } from '../../../src/config/load-in-thread.js'
import { CertmqError } from '../../../src/errors.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-config-thread-')

function dirWith (config: unknown): string {
  const dir = tempDir()
  writeFileSync(join(dir, 'broker.config.json'), JSON.stringify(config))
  return dir
}

describe('loading the config in its own thread (certmq serve)', () => {
  it('gives what loadConfig gives: file, environment, defaults, frozen', async () => {
    const cwd = dirWith({ mqtts: { port: 1883 }, logLevel: 'warn' })
    const env = { CERTMQ_ADMIN_PORT: '9090', CERTMQ_RUNTIME_HEAP_GROWING_PERCENT: '0' }
    const loaded = await loadConfigInThread({ cwd, env })
    expect(loaded).toEqual(loadConfig({ cwd, env }))
    expect(loaded.file).toBe(join(cwd, 'broker.config.json'))
    expect(loaded.config.admin.port).toBe(9090)
    expect(loaded.config.runtime.heapGrowingPercent).toBe(0)
    expect(Object.isFrozen(loaded.config.mqtts)).toBe(true)
  })

  it("by default reads this process's environment and working directory", async () => {
    const cwd = dirWith({ admin: { port: 1 } })
    const before = { dir: process.cwd(), env: process.env['CERTMQ_MQTTS_PORT'] }
    process.chdir(cwd)
    process.env['CERTMQ_MQTTS_PORT'] = '18883'
    try {
      const { config, file } = await loadConfigInThread()
      expect(file).toBe(join(cwd, 'broker.config.json'))
      expect(config.admin.port).toBe(1)
      expect(config.mqtts.port).toBe(18883)
    } finally {
      process.chdir(before.dir)
      if (before.env === undefined) delete process.env['CERTMQ_MQTTS_PORT']
      else process.env['CERTMQ_MQTTS_PORT'] = before.env
    }
  })

  it('brings CONFIG_INVALID back with every problem', async () => {
    const cwd = dirWith({ mqtts: { prot: 1 } })
    const err = await loadConfigInThread({ cwd, env: { CERTMQ_ADMIN_PORT: 'eighty' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CertmqError)
    expect((err as CertmqError).code).toBe('CONFIG_INVALID')
    expect((err as CertmqError).message).toContain('mqtts.prot')
    expect((err as CertmqError).message).toContain('CERTMQ_ADMIN_PORT')
    expect((err as CertmqError).details['problems']).toHaveLength(2)
  })
})
