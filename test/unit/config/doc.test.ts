import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { renderConfigDoc } from '../../../src/config/doc.js'
import { ENV_BINDINGS } from '../../../src/config/env.js'

describe('docs/config.md', () => {
  it('is what the schema renders (run `npx tsx scripts/gen-config-doc.ts` after a schema change)', () => {
    expect(readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'config.md'), 'utf8')).toBe(renderConfigDoc())
  })
  it('lists every environment variable', () => {
    for (const { env } of ENV_BINDINGS) expect(renderConfigDoc()).toContain(`\`${env}\``)
  })
})
