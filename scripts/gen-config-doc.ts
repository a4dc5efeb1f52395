/** Regenerates docs/config.md from the config schema. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderConfigDoc } from '../src/config/doc.js'

writeFileSync(join(import.meta.dirname, '..', 'docs', 'config.md'), renderConfigDoc())
