import { describe, expect, it } from 'vitest'
import { isHostname, MAX_CA_HOSTS, normalizeHosts, normalizeServerName } from '../../../src/domain/ca-hosts.js'
import { CertmqError } from '../../../src/errors.js'

function failure (fn: () => unknown): CertmqError {
  try {
    fn()
  } catch (err) {
    if (err instanceof CertmqError) return err
    throw err
  }
  throw new Error('expected a CertmqError')
}

describe('§2 CA host binding: hostnames', () => {
  it('accepts DNS hostnames and refuses IP literals, wildcards, underscores, empty and over-long labels', () => {
    for (const ok of ['localhost', 'fleet-a.example', 'a.b.c.example.com', 'x1.example', `${'a'.repeat(63)}.example`]) expect(isHostname(ok), ok).toBe(true)
    for (const bad of ['', '127.0.0.1', '*.example', 'under_score.example', 'a..b', '-a.example', 'a-.example', `${'a'.repeat(64)}.example`,
      'space here.example', `${'a.'.repeat(127)}ab`]) expect(isHostname(bad), bad).toBe(false)
  })

  it('lowercases, drops a trailing dot and removes duplicates, keeping first-seen order', () => {
    expect(normalizeHosts(['Fleet-A.Example', 'fleet-b.example.', 'FLEET-A.example'])).toEqual(['fleet-a.example', 'fleet-b.example'])
    expect(normalizeHosts([])).toEqual([])
  })

  it('refuses a bad hostname with VALIDATION_FAILED naming its index', () => {
    const err = failure(() => normalizeHosts(['ok.example', 'not_ok']))
    expect(err.code).toBe('VALIDATION_FAILED')
    expect(err.message).toContain('body/hosts/1')
    expect(err.details).toMatchObject({ field: 'hosts.1', value: 'not_ok' })
  })

  it(`refuses more than ${MAX_CA_HOSTS} hostnames`, () => {
    const hosts = Array.from({ length: MAX_CA_HOSTS + 1 }, (_, i) => `h${i}.example`)
    expect(failure(() => normalizeHosts(hosts)).code).toBe('VALIDATION_FAILED')
    expect(normalizeHosts(hosts.slice(0, MAX_CA_HOSTS))).toHaveLength(MAX_CA_HOSTS)
  })

  it('normalizes the server name a TLS socket reports; false, null and empty mean none', () => {
    expect(normalizeServerName('Fleet-A.Example.')).toBe('fleet-a.example')
    expect(normalizeServerName(false)).toBeUndefined()
    expect(normalizeServerName(null)).toBeUndefined()
    expect(normalizeServerName('')).toBeUndefined()
  })
})
