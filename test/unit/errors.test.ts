import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'
import { REJECT_REASONS } from '../../src/domain/connect/reasons.js'

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8')
const documented = (section: RegExp): Map<string, number> => {
  const rows = new Map<string, number>()
  for (const match of doc.matchAll(section)) rows.set(match[1]!, Number(match[2]))
  return rows
}

describe('error catalog', () => {
  it('documents every error code with its HTTP status in docs/errors.md, and nothing else', () => {
    const rows = documented(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort())
    for (const [code, entry] of Object.entries(ERROR_CODES)) expect(rows.get(code), code).toBe(entry.status)
  })
  it('documents every rejection reason with its CONNACK code, and nothing else', () => {
    const rows = documented(/^\| `([a-z_]+)` \| (\d) \|/gm)
    expect([...rows.keys()].sort()).toEqual(Object.keys(REJECT_REASONS).sort())
    for (const [reason, code] of Object.entries(REJECT_REASONS)) expect(rows.get(reason), reason).toBe(code)
  })
  it('keeps the codes other tools depend on', () => {
    for (const code of ['CERT_NOT_FOUND', 'CA_NOT_FOUND', 'CLIENT_ID_TAKEN', 'CERT_STATUS_CONFLICT', 'CONFIG_INVALID', 'STORE_UNAVAILABLE', 'PEM_INVALID']) {
      expect(ERROR_CODES).toHaveProperty(code)
    }
  })
})
