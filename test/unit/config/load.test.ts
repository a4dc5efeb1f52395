import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'
import { CertmqError } from '../../../src/errors.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-config-')

function dirWith (config?: unknown): string {
  const dir = tempDir()
  if (config !== undefined) writeFileSync(join(dir, 'broker.config.json'), typeof config === 'string' ? config : JSON.stringify(config))
  return dir
}

function problemsOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CertmqError)
    expect((err as CertmqError).code).toBe('CONFIG_INVALID')
    return (err as CertmqError).message
  }
  throw new Error('expected CONFIG_INVALID')
}

describe('config loading', () => {
  it('starts from safe defaults when there is no file', () => {
    const { config, file } = loadConfig({ cwd: dirWith(), env: {} })
    expect(file).toBeNull()
    expect(config.mqtts.port).toBe(8883)
    expect(config.admin.host).toBe('127.0.0.1')
    expect(config.admin.port).toBe(8080)
    expect(config.admin.token).toBe('')
    expect(config.dataDir).toBe('./data')
    expect(config.autoRegistration.maxPerSecond).toBe(15)
    expect(Object.isFrozen(config.mqtts)).toBe(true)
  })
  it('lets the documented environment variables override the file', () => {
    const cwd = dirWith({ mqtts: { port: 1 }, admin: { port: 2 } })
    const { config } = loadConfig({
      cwd,
      env: {
        CERTMQ_MQTTS_HOST: '127.0.0.2', CERTMQ_MQTTS_PORT: '18883', CERTMQ_ADMIN_HOST: '::1', CERTMQ_ADMIN_PORT: '18080',
        CERTMQ_DATA_DIR: '/var/lib/certmq', CERTMQ_ADMIN_TOKEN: 'env-admin-token-0123456789', CERTMQ_LOG_LEVEL: 'debug', CERTMQ_AUTO_REGISTRATION_RATE: '40'
      }
    })
    expect(config.mqtts).toMatchObject({ host: '127.0.0.2', port: 18883 })
    expect(config.admin).toMatchObject({ host: '::1', port: 18080, token: 'env-admin-token-0123456789' })
    expect(config).toMatchObject({ dataDir: '/var/lib/certmq', logLevel: 'debug', autoRegistration: { maxPerSecond: 40 } })
  })
  it('reads the file named by CERTMQ_CONFIG', () => {
    const dir = dirWith()
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ mqtts: { port: 9999 } }))
    expect(loadConfig({ cwd: dir, env: { CERTMQ_CONFIG: 'other.json' } }).config.mqtts.port).toBe(9999)
  })
  it('treats an empty CERTMQ_CONFIG as unset and reads ./broker.config.json, as for every other variable', () => {
    const cwd = dirWith({ mqtts: { port: 9998 } })
    const { config, file } = loadConfig({ cwd, env: { CERTMQ_CONFIG: '' } })
    expect(file).toBe(join(cwd, 'broker.config.json'))
    expect(config.mqtts.port).toBe(9998)
    // and with no file there: the defaults, not the working directory read as a file (EISDIR)
    expect(loadConfig({ cwd: dirWith(), env: { CERTMQ_CONFIG: '' } }).file).toBeNull()
  })
  it('reports a missing CERTMQ_CONFIG file with its path and the variable', () => {
    expect(problemsOf(() => loadConfig({ cwd: dirWith(), env: { CERTMQ_CONFIG: 'nope.json' } }))).toMatch(/nope\.json \(from CERTMQ_CONFIG\): cannot be read/)
  })
  it('reports admin.port and its env var when the value is not a number', () => {
    expect(problemsOf(() => loadConfig({ cwd: dirWith(), env: { CERTMQ_ADMIN_PORT: 'eighty' } })))
      .toContain('config admin.port (from CERTMQ_ADMIN_PORT): must be an integer, found "eighty"')
  })
  it('reports a misspelt key with its path and the file', () => {
    const cwd = dirWith({ mqtts: { prot: 1883 } })
    expect(problemsOf(() => loadConfig({ cwd, env: {} }))).toMatch(/config mqtts\.prot \(from .*broker\.config\.json\): unknown key/)
  })
  it('reports every problem at once, each on its own line', () => {
    const cwd = dirWith({ mqtts: { port: 70000 }, logLevel: 'loud', admn: {} })
    const message = problemsOf(() => loadConfig({ cwd, env: {} }))
    expect(message).toMatch(/config mqtts\.port .*must be <= 65535, found 70000/)
    expect(message).toMatch(/config logLevel .*must be one of fatal, error/)
    expect(message).toMatch(/config admn .*unknown key/)
    expect(message.split('\n')).toHaveLength(4)
  })
  it('reports mqtts.certFile without mqtts.keyFile, naming where it was set, with the other problems', () => {
    const message = problemsOf(() => loadConfig({ cwd: dirWith({ admin: { port: 'x' } }), env: { CERTMQ_MQTTS_CERT_FILE: 'server.pem' } }))
    expect(message).toContain('config mqtts.certFile (from CERTMQ_MQTTS_CERT_FILE): needs mqtts.keyFile too (the certificate and its key go together), or neither')
    expect(message).toContain('config admin.port')
  })

  it('reports an unreadable mqtts.certFile or keyFile at load, before anything is created', () => {
    const cwd = dirWith({ mqtts: { keyFile: 'server.key' } })
    writeFileSync(join(cwd, 'server.key'), 'not read here')
    const message = problemsOf(() => loadConfig({ cwd, env: { CERTMQ_MQTTS_CERT_FILE: 'missing.pem' } }))
    expect(message).toContain('config mqtts.certFile (from CERTMQ_MQTTS_CERT_FILE): cannot read missing.pem (ENOENT)')
    expect(message).not.toContain('mqtts.keyFile')
    writeFileSync(join(cwd, 'missing.pem'), 'now there')
    expect(loadConfig({ cwd, env: { CERTMQ_MQTTS_CERT_FILE: 'missing.pem' } }).config.mqtts.keyFile).toBe('server.key')
  })
  it('reports an mqtts.certFile that is a directory at load, with its source, like an unreadable one', () => {
    const cwd = dirWith({ mqtts: { keyFile: 'server.key' } })
    writeFileSync(join(cwd, 'server.key'), 'not read here')
    mkdirSync(join(cwd, 'tls'))
    expect(problemsOf(() => loadConfig({ cwd, env: { CERTMQ_MQTTS_CERT_FILE: 'tls' } })))
      .toContain('config mqtts.certFile (from CERTMQ_MQTTS_CERT_FILE): cannot read tls (EISDIR')
  })

  it('refuses a timeout longer than a timer can wait (2^31 - 1 ms), which would close every connection after 1 ms', () => {
    const cwd = dirWith({ mqtts: { connectTimeoutMs: 3_000_000_000, handshakeTimeoutMs: 2_147_483_648 } })
    const message = problemsOf(() => loadConfig({ cwd, env: {} }))
    expect(message).toMatch(/config mqtts\.connectTimeoutMs \(from .*broker\.config\.json\): must be <= 2147483647, found 3000000000/)
    expect(message).toMatch(/config mqtts\.handshakeTimeoutMs .*must be <= 2147483647, found 2147483648/)
    expect(loadConfig({ cwd: dirWith({ mqtts: { connectTimeoutMs: 2_147_483_647 } }), env: {} }).config.mqtts.connectTimeoutMs).toBe(2_147_483_647)
  })
  it('refuses a nodeName of blanks, which would name the node nothing readable; empty still means the host name', () => {
    const message = problemsOf(() => loadConfig({ cwd: dirWith({ nodeName: '   ' }), env: {} }))
    expect(message).toMatch(/config nodeName \(from .*broker\.config\.json\): must match pattern/)
    expect(loadConfig({ cwd: dirWith({ nodeName: '' }), env: {} }).config.nodeName).toBe('')
    expect(loadConfig({ cwd: dirWith({ nodeName: 'edge 7' }), env: {} }).config.nodeName).toBe('edge 7')
  })
  it('refuses an empty admin.host or mqtts.host in the file, which would bind every interface, and takes an empty variable as unset', () => {
    const message = problemsOf(() => loadConfig({ cwd: dirWith({ admin: { host: '' }, mqtts: { host: '' } }), env: {} }))
    expect(message).toMatch(/config admin\.host \(from .*broker\.config\.json\): must NOT have fewer than 1 characters, found ""/)
    expect(message).toMatch(/config mqtts\.host .*found ""/)
    expect(loadConfig({ cwd: dirWith(), env: { CERTMQ_ADMIN_HOST: '' } }).config.admin.host).toBe('127.0.0.1')
  })

  it('reports a misspelt CERTMQ_ variable by name with the one it resembles, never its value', () => {
    const message = problemsOf(() => loadConfig({ cwd: dirWith(), env: { CERTMQ_ADMNI_HOST: '0.0.0.0', CERTMQ_ADMIN_TOKNE: 'secret-token-0123456789abcdef' } }))
    expect(message).toContain('environment variable CERTMQ_ADMNI_HOST: not a certmq variable (did you mean CERTMQ_ADMIN_HOST?)')
    expect(message).toContain('environment variable CERTMQ_ADMIN_TOKNE: not a certmq variable (did you mean CERTMQ_ADMIN_TOKEN?)')
    expect(message).not.toContain('secret-token')
    expect(message.split('\n')).toHaveLength(3)
  })
  it('takes the CLI\'s variables, the variables admin.tokens names, and an empty unknown one (unset)', () => {
    const cwd = dirWith({ admin: { tokens: [{ name: 'grafana', tokenEnv: 'CERTMQ_GRAFANA_TOKEN' }] } })
    const { config } = loadConfig({
      cwd,
      env: {
        CERTMQ_ADMIN_URL: 'http://127.0.0.1:9080',
        CERTMQ_ADMIN_TIMEOUT: '5',
        CERTMQ_GRAFANA_TOKEN: 'grafana-token-0123456789abcdef',
        CERTMQ_UNKNOWN: ''
      }
    })
    expect(config.admin.tokens).toHaveLength(1)
  })

  it('reports an mqtts.serverNames entry that is neither a DNS name nor an IP address, which the certificate would leave out', () => {
    const cwd = dirWith({ mqtts: { serverNames: ['broker.example.test', '10.1.2.3', '::1', '*.fleet.test', 'https://broker.example.test'] } })
    const message = problemsOf(() => loadConfig({ cwd, env: {} }))
    expect(message).toMatch(/config mqtts\.serverNames\.4 \(from .*broker\.config\.json\): must be a DNS name \(a leading \*\. allowed\) or an IP address, found "https:\/\/broker\.example\.test"/)
    expect(message.split('\n')).toHaveLength(2)
  })
  it('reports a section the file gives as a string also when a variable sets a key inside it', () => {
    const cwd = dirWith({ mqtts: '0.0.0.0:8883' })
    expect(problemsOf(() => loadConfig({ cwd, env: { CERTMQ_MQTTS_PORT: '18883' } })))
      .toMatch(/config mqtts \(from .*broker\.config\.json\): must be object, found "0\.0\.0\.0:8883"/)
  })
  it('reads a file saved with a UTF-8 byte order mark', () => {
    expect(loadConfig({ cwd: dirWith('\uFEFF{ "mqtts": { "port": 9997 } }'), env: {} }).config.mqtts.port).toBe(9997)
  })
  it('reports a file that is not JSON', () => {
    expect(problemsOf(() => loadConfig({ cwd: dirWith('{ "mqtts": '), env: {} }))).toMatch(/broker\.config\.json: not valid JSON/)
  })
})
