/** Renders docs/config.md from the schema, so the documentation cannot drift from the code. */
import type { TSchema } from '@sinclair/typebox'
import { ConfigSchema } from './schema.js'
import { CONFIG_FILE_ENV, ENV_BINDINGS } from './env.js'

interface Row { key: string; type: string; default: string; env: string; description: string }

function rows (schema: TSchema, prefix: string, out: Row[]): Row[] {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {}
  for (const [name, child] of Object.entries(properties)) {
    const key = prefix === '' ? name : `${prefix}.${name}`
    const c = child as {
      type?: string; enum?: string[]; default?: unknown; description?: string; items?: TSchema & { type?: string }
      minimum?: number; maximum?: number; minLength?: number
    }
    if (c.type === 'object') {
      rows(child, key, out)
      continue
    }
    // an array of objects: a row for the array, then one per field of its items (`admin.tokens[].name`)
    const itemRows = c.type === 'array' && c.items?.type === 'object' ? rows(c.items, `${key}[]`, []) : []
    out.push({
      key,
      type: c.enum !== undefined ? c.enum.map((v) => `\`${v}\``).join(' \\| ') : c.type === 'array' ? `${c.items?.type ?? ''}[]` : `${String(c.type)}${bounds(c)}`,
      default: c.default === undefined ? '' : `\`${JSON.stringify(c.default)}\``,
      env: ENV_BINDINGS.find((b) => b.key === key)?.env ?? '',
      description: c.description ?? ''
    })
    out.push(...itemRows)
  }
  return out
}

/** The range a value must be in, as the validator checks it: `, 1–3650`, `, ≥ 1000`, `, not empty`. */
function bounds ({ minimum, maximum, minLength }: { minimum?: number; maximum?: number; minLength?: number }): string {
  if (minimum !== undefined && maximum !== undefined) return `, ${minimum}–${maximum}`
  if (minimum !== undefined) return `, ≥ ${minimum}`
  if (maximum !== undefined) return `, ≤ ${maximum}`
  return minLength === 1 ? ', not empty' : ''
}

export function renderConfigDoc (): string {
  const table = rows(ConfigSchema, '', []).map((r) =>
    `| \`${r.key}\` | ${r.type} | ${r.default} | ${r.env === '' ? '' : `\`${r.env}\``} | ${r.description} |`)
  return [
    '# Configuration',
    '',
    '<!-- generated from src/config/schema.ts by `npx tsx scripts/gen-config-doc.ts`; a test fails when it is stale -->',
    '',
    `certmq reads \`broker.config.json\` from the working directory, or the file named by \`${CONFIG_FILE_ENV}\` or`,
    '`certmq serve --config FILE`. Every key is optional; unknown keys are errors. Environment variables',
    'override the file; a set `CERTMQ_` variable that certmq does not read (a misspelt name) is an error too,',
    'unless it is `CERTMQ_ADMIN_URL`, `CERTMQ_ADMIN_TIMEOUT` (read by the CLI) or named by an `admin.tokens`',
    'entry\'s `tokenEnv`. Problems are reported all at once, each naming the key (or variable) and where the',
    'value came from, and `certmq serve` exits with code 78.',
    '',
    '| key | type | default | environment variable | description |',
    '| --- | --- | --- | --- | --- |',
    ...table,
    ''
  ].join('\n')
}
