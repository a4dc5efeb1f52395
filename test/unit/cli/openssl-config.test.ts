import { describe, expect, it } from 'vitest'
import { describeOpensslConfig } from '../../../src/cli/openssl-config.js'

describe('describeOpensslConfig', () => {
  it('names the file node was given with --openssl-config, in either spelling, the last one winning', () => {
    expect(describeOpensslConfig(['--openssl-config=/opt/certmq/bin/openssl.cnf'], {})).toBe('/opt/certmq/bin/openssl.cnf (--openssl-config)')
    expect(describeOpensslConfig(['--openssl-config', '/a.cnf', '--openssl-config=/b.cnf'], {})).toBe('/b.cnf (--openssl-config)')
  })

  it('takes the flag from NODE_OPTIONS when the command line has none, and the flag over OPENSSL_CONF, as node does', () => {
    expect(describeOpensslConfig([], { NODE_OPTIONS: '--max-old-space-size=512 --openssl-config=/etc/x.cnf', OPENSSL_CONF: '/etc/y.cnf' }))
      .toBe('/etc/x.cnf (--openssl-config)')
    expect(describeOpensslConfig(['--openssl-config=/a.cnf'], { NODE_OPTIONS: '--openssl-config=/etc/x.cnf' })).toBe('/a.cnf (--openssl-config)')
  })

  it('names OPENSSL_CONF without a flag, and says when OpenSSL runs on its defaults', () => {
    expect(describeOpensslConfig(['--cpu-prof'], { OPENSSL_CONF: '/etc/ssl/fips.cnf' })).toBe('/etc/ssl/fips.cnf (OPENSSL_CONF)')
    expect(describeOpensslConfig([], { OPENSSL_CONF: '' })).toMatch(/^none \(OpenSSL's defaults: 2 session tickets/)
    expect(describeOpensslConfig([], {})).toMatch(/^none /)
  })
})
