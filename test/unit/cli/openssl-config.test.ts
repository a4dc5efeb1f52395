import { describe, expect, it } from 'vitest'
import { describeOpensslConfig, splitNodeOptions } from '../../../src/cli/openssl-config.js'

const all = (): boolean => true

describe('describeOpensslConfig', () => {
  it('names the file node was given with --openssl-config, in any spelling node takes, the last one winning', () => {
    expect(describeOpensslConfig(['--openssl-config=/opt/certmq/bin/openssl.cnf'], {}, all)).toBe('/opt/certmq/bin/openssl.cnf (--openssl-config)')
    expect(describeOpensslConfig(['--openssl-config', '/a.cnf', '--openssl_config=/b.cnf'], {}, all)).toBe('/b.cnf (--openssl-config)')
  })

  it('takes the flag from NODE_OPTIONS (quoted as node reads it) when the command line has none, and the flag over OPENSSL_CONF, as node does', () => {
    expect(describeOpensslConfig([], { NODE_OPTIONS: '--max-old-space-size=512 --openssl-config="/etc/my ssl.cnf"', OPENSSL_CONF: '/etc/y.cnf' }, all))
      .toBe('/etc/my ssl.cnf (--openssl-config)')
    expect(describeOpensslConfig(['--openssl-config=/a.cnf'], { NODE_OPTIONS: '--openssl-config=/etc/x.cnf' }, all)).toBe('/a.cnf (--openssl-config)')
    // an empty value is no file: node falls back to OPENSSL_CONF
    expect(describeOpensslConfig(['--openssl-config='], { OPENSSL_CONF: '/etc/y.cnf' }, all)).toBe('/etc/y.cnf (OPENSSL_CONF)')
  })

  it('names OPENSSL_CONF without a flag, says when a named file is missing, and names the section of the default file', () => {
    expect(describeOpensslConfig(['--cpu-prof'], { OPENSSL_CONF: '/etc/ssl/fips.cnf' }, all)).toBe('/etc/ssl/fips.cnf (OPENSSL_CONF)')
    expect(describeOpensslConfig(['--openssl-config=/gone.cnf'], {}, () => false)).toMatch(/^\/gone\.cnf \(--openssl-config; missing: OpenSSL's built-in defaults, two session tickets/)
    expect(describeOpensslConfig([], { OPENSSL_CONF: '' }, all)).toMatch(/^the default openssl\.cnf, section nodejs_conf \(usually none: two session tickets/)
    expect(describeOpensslConfig([], { NODE_OPTIONS: '--openssl-shared-config' }, all)).toMatch(/^the default openssl\.cnf, section openssl_conf /)
  })
})

describe('splitNodeOptions', () => {
  it('splits on spaces, keeps a double-quoted value whole, and unescapes inside quotes', () => {
    expect(splitNodeOptions('  --a  --b=1 ')).toEqual(['--a', '--b=1'])
    expect(splitNodeOptions('--x="a b" "--y=c\\"d"')).toEqual(['--x=a b', '--y=c"d'])
  })
})
