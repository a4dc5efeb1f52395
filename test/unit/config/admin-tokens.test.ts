import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'
import { CertmqError } from '../../../src/errors.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-config-')

const HASH = hashOf(0)
function hashOf (n: number): string {
  return createHash('sha256').update(`viewer-token-0123456789-${n}`).digest('hex')
}

function withTokens (tokens: unknown): string {
  const dir = tempDir()
  writeFileSync(join(dir, 'broker.config.json'), JSON.stringify({ admin: { tokens } }))
  return dir
}

function problems (tokens: unknown, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ cwd: withTokens(tokens), env })
  } catch (err) {
    expect(err).toBeInstanceOf(CertmqError)
    expect((err as CertmqError).code).toBe('CONFIG_INVALID')
    return (err as CertmqError).details['problems'] as string[]
  }
  throw new Error('expected CONFIG_INVALID')
}

describe('config admin.tokens', () => {
  it('defaults to no named tokens', () => {
    expect(loadConfig({ cwd: tempDir(), env: {} }).config.admin.tokens).toEqual([])
  })

  it('keeps a tokenSha256 entry and defaults its role to viewer (least privilege)', () => {
    const { config } = loadConfig({ cwd: withTokens([{ name: 'ci', tokenSha256: HASH }]), env: {} })
    expect(config.admin.tokens).toEqual([{ name: 'ci', role: 'viewer', tokenSha256: HASH }])
  })

  it('reads tokenEnv at load and keeps only the hash of the token', () => {
    const token = 'from-the-environment-0123456789'
    const { config } = loadConfig({ cwd: withTokens([{ name: 'ops', role: 'admin', tokenEnv: 'OPS_TOKEN' }]), env: { OPS_TOKEN: token } })
    expect(config.admin.tokens[0]).toEqual({
      name: 'ops', role: 'admin', tokenEnv: 'OPS_TOKEN', tokenSha256: createHash('sha256').update(token).digest('hex')
    })
    expect(JSON.stringify(config)).not.toContain(token)
  })

  it('names the key of a bad hash, an unknown role and a misspelt field', () => {
    const found = problems([
      { name: 'a', tokenSha256: 'not-hex' },
      { name: 'b', role: 'root', tokenSha256: hashOf(1) },
      { name: 'c', tokenSha256: hashOf(2), tokenHash: 'x' }
    ])
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^config admin\.tokens\.0\.tokenSha256 \(from .*broker\.config\.json\): must match pattern/),
      expect.stringMatching(/^config admin\.tokens\.1\.role \(from .*\): must be one of admin, viewer, found "root"/),
      expect.stringMatching(/^config admin\.tokens\.2\.tokenHash \(from .*\): unknown key/)
    ]))
  })

  it('names the key when an entry has neither or both of tokenSha256 and tokenEnv', () => {
    const found = problems([{ name: 'a' }, { name: 'b', tokenSha256: HASH, tokenEnv: 'B_TOKEN' }], { B_TOKEN: 'b'.repeat(20) })
    expect(found).toContain(`config admin.tokens.0 (from ${found[0]!.match(/\(from (.*)\)/)![1]}): set exactly one of tokenSha256 and tokenEnv`)
    expect(found.some((p) => p.startsWith('config admin.tokens.1 (from ') && p.endsWith('set exactly one of tokenSha256 and tokenEnv'))).toBe(true)
    expect(found.some((p) => p.startsWith('config admin.tokens.0.name'))).toBe(false)
  })

  it('refuses an unset or too short tokenEnv without printing the value', () => {
    const found = problems([{ name: 'a', tokenEnv: 'A_TOKEN' }, { name: 'b', tokenEnv: 'B_TOKEN' }], { B_TOKEN: 'shortsecret' })
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^config admin\.tokens\.0\.tokenEnv \(from .*\): environment variable A_TOKEN is not set$/),
      expect.stringMatching(/^config admin\.tokens\.1\.tokenEnv \(from .*\): B_TOKEN must hold at least 16 characters/)
    ]))
    expect(found.join('\n')).not.toContain('shortsecret')
  })

  it('never names a token pasted where the name of its variable belongs', () => {
    const pasted = 'cmq_Pasted-by-mistake_0123456789'
    const found = problems([{ name: 'ci', tokenEnv: pasted }])
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^config admin\.tokens\.0\.tokenEnv \(from .*\): must match pattern .*, found \(value hidden\)$/),
      expect.stringMatching(/^config admin\.tokens\.0\.tokenEnv \(from .*\): the environment variable it names \(not a variable name; is it the token itself\?\) is not set$/)
    ]))
    // a generated token (mixed case) that happens to fit the schema's name pattern is not named either
    const fits = 'cmq_PastedByMistake0123456789abcdef'
    expect(problems([{ name: 'ci', tokenEnv: fits }]).join('\n')).not.toContain(fits)
    expect(found.join('\n')).not.toContain(pasted)
    // a variable's name is named, as before
    expect(problems([{ name: 'ci', tokenEnv: 'CI_TOKEN' }])).toEqual([expect.stringContaining('environment variable CI_TOKEN is not set')])
  })

  it('refuses the reserved names admin, device and system, duplicate names and one token under two names', () => {
    const found = problems([
      { name: 'admin', tokenSha256: hashOf(3) },
      { name: 'ci', tokenSha256: HASH },
      { name: 'ci', tokenSha256: hashOf(4) },
      { name: 'ci2', tokenSha256: HASH },
      { name: 'device', tokenSha256: hashOf(5) },
      { name: 'system', tokenSha256: hashOf(6) }
    ])
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^config admin\.tokens\.4\.name \(from .*\): "device" is reserved for events/),
      expect.stringMatching(/^config admin\.tokens\.5\.name \(from .*\): "system" is reserved for events/),
      expect.stringMatching(/^config admin\.tokens\.0\.name \(from .*\): "admin" is reserved for admin\.token/),
      expect.stringMatching(/^config admin\.tokens\.2\.name \(from .*\): "ci" is already the name of admin\.tokens\.1$/),
      expect.stringMatching(/^config admin\.tokens\.3 \(from .*\): the same token as admin\.tokens\.1/)
    ]))
  })

  it('never prints a token pasted where its hash belongs', () => {
    const pasted = 'cmq_pasted-by-mistake-0123456789'
    const found = problems([{ name: 'ci', tokenSha256: pasted }])
    expect(found).toEqual([expect.stringMatching(/^config admin\.tokens\.0\.tokenSha256 \(from .*\): must match pattern .*, found \(value hidden\)$/)])
    expect(found.join('\n')).not.toContain(pasted)
  })
})

describe('config admin.token', () => {
  it('takes a token the admin API can read', () => {
    const token = 'A-Za-z0-9._~+/token-1234='
    expect(loadConfig({ cwd: tempDir(), env: { CERTMQ_ADMIN_TOKEN: token } }).config.admin.token).toBe(token)
  })

  it('refuses one the admin API could never accept (a character a bearer token cannot hold), naming its source and not its value', () => {
    for (const bad of ['has spaces in it 0123456789', 'dollar$sign-0123456789', 'quote"0123456789']) {
      let found: string[] = []
      try {
        loadConfig({ cwd: tempDir(), env: { CERTMQ_ADMIN_TOKEN: bad } })
      } catch (err) {
        found = (err as CertmqError).details['problems'] as string[]
      }
      expect(found, bad).toEqual([expect.stringMatching(/^config admin\.token \(from CERTMQ_ADMIN_TOKEN\): may hold only A-Z a-z 0-9/)])
      expect(found.join('\n')).not.toContain(bad)
    }
    // short works (the start warns about it): refusing it would stop a running deployment on upgrade
    expect(loadConfig({ cwd: tempDir(), env: { CERTMQ_ADMIN_TOKEN: 'short' } }).config.admin.token).toBe('short')
  })

  it('refuses a named token equal to admin.token: it would authenticate as admin, never under its own name', () => {
    const dir = tempDir()
    const token = 'shared-by-mistake-0123456789'
    writeFileSync(join(dir, 'broker.config.json'), JSON.stringify({ admin: { tokens: [{ name: 'grafana', tokenEnv: 'GRAFANA_TOKEN' }] } }))
    let found: string[] = []
    try {
      loadConfig({ cwd: dir, env: { CERTMQ_ADMIN_TOKEN: token, GRAFANA_TOKEN: token } })
    } catch (err) {
      found = (err as CertmqError).details['problems'] as string[]
    }
    expect(found).toEqual([expect.stringMatching(/^config admin\.tokens\.0 \(from .*\): the same token as admin\.token/)])
    expect(found.join('\n')).not.toContain(token)
  })

  it('hides the value of any key under admin.tokens, also when the problem is the entry or the list', () => {
    const pasted = 'cmq_pasted-by-mistake-0123456789'
    for (const tokens of [pasted, [pasted], [{ tokenSha256: pasted }]]) {
      const dir = tempDir()
      writeFileSync(join(dir, 'broker.config.json'), JSON.stringify({ admin: { tokens } }))
      let found: string[] = []
      try {
        loadConfig({ cwd: dir, env: {} })
      } catch (err) {
        found = (err as CertmqError).details['problems'] as string[]
      }
      expect(found.length, JSON.stringify(tokens).slice(0, 20)).toBeGreaterThan(0)
      expect(found.join('\n')).not.toContain(pasted)
    }
  })

  it('hides the value of admin itself when it is not an object: a token written as `"admin": "<token>"`', () => {
    const pasted = 'cmq_pasted-by-mistake-0123456789'
    const dir = tempDir()
    writeFileSync(join(dir, 'broker.config.json'), JSON.stringify({ admin: pasted }))
    let found: string[] = []
    try {
      loadConfig({ cwd: dir, env: {} })
    } catch (err) {
      found = (err as CertmqError).details['problems'] as string[]
    }
    expect(found.join('\n')).toMatch(/config admin \(from .*\): must be object, found \(value hidden\)/)
    expect(found.join('\n')).not.toContain(pasted)
  })

  it('names the config file when the bad token is written there', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'broker.config.json'), JSON.stringify({ admin: { token: 'a bad token! 0123456789' } }))
    let found: string[] = []
    try {
      loadConfig({ cwd: dir, env: {} })
    } catch (err) {
      found = (err as CertmqError).details['problems'] as string[]
    }
    expect(found).toEqual([expect.stringMatching(/^config admin\.token \(from .*broker\.config\.json\): may hold only/)])
    expect(found.join('\n')).not.toContain('bad token!')
  })
})
