import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { directServeOptions } from '../../../src/cli/serve-argv.js'
import { staticGraph } from '../../helpers/module-graph.js'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')

describe('certmq serve without the command table', () => {
  it('takes `serve` and `serve --config <path>` in both spellings', () => {
    expect(directServeOptions(['serve'])).toEqual({})
    expect(directServeOptions(['serve', '--config', '/etc/certmq.json'])).toEqual({ config: '/etc/certmq.json' })
    expect(directServeOptions(['serve', '--config=./b.json'])).toEqual({ config: './b.json' })
  })

  it('leaves everything else to the full command table and its usage errors', () => {
    for (const argv of [[], ['ca', 'list'], ['serve', '--help'], ['serve', '--config'], ['serve', '--config='], ['serve', '--config', '--help'],
      ['serve', '--cofnig', 'x.json'], ['serve', 'extra'], ['serve', '--config', 'a.json', 'b'], ['--json', 'serve']]) {
      expect(directServeOptions(argv), argv.join(' ')).toBeUndefined()
    }
  })

  it('loads neither the argument parser, the operator commands and the simulator, nor the config validator on that path', () => {
    for (const entry of [join(ROOT, 'src', 'main.ts'), join(ROOT, 'src', 'cli', 'commands', 'serve.ts')]) {
      const { files, packages } = staticGraph(entry)
      expect(packages, entry).not.toContain('commander')
      // the config is validated in a thread of its own (config/load-in-thread.ts)
      for (const validator of ['ajv', '@sinclair/typebox']) expect(packages, entry).not.toContain(validator)
      expect([...files].filter((f) => f.endsWith(join('cli', 'index.ts')) || f.includes(`${join('src', 'simulator')}/`) ||
        (f.includes(`${join('cli', 'commands')}/`) && !f.endsWith('serve.ts'))), entry).toEqual([])
    }
  })
})
