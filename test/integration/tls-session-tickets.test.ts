/**
 * The `certmq` command (bin/certmq) starts node with bin/openssl.cnf, so a device gets one TLS 1.3
 * session ticket per handshake instead of OpenSSL's two, and an operator's own OpenSSL
 * configuration is left in charge. The real bin/certmq and bin/openssl.cnf are copied beside a
 * bin/certmq.js that runs the TypeScript source (the built dist/ may be older than it), and
 * started through a symlink as npm installs the command.
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { connect, type TLSSocket } from 'node:tls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { killSurvivors, serve } from '../helpers/serve-process.js'
import { MAIN_TS, REPO_ROOT, TSX_IMPORT } from '../helpers/tsx.js'

/** MQTT 3.1.1 CONNECT, client ID "t", clean session: certmq answers a device without a certificate with CONNACK 5 and closes. */
const CONNECT = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x74])

let work: string
let command: string
let pkgBin: string

beforeAll(async () => {
  // a space in the install path, which the wrapper must quote
  work = await mkdtemp(join(tmpdir(), 'certmq tickets-'))
  pkgBin = join(work, 'pkg', 'bin')
  await mkdir(pkgBin, { recursive: true })
  await copyFile(join(REPO_ROOT, 'bin', 'certmq'), join(pkgBin, 'certmq'))
  await copyFile(join(REPO_ROOT, 'bin', 'openssl.cnf'), join(pkgBin, 'openssl.cnf'))
  await writeFile(join(pkgBin, 'certmq.js'), `await import(${JSON.stringify(pathToFileURL(MAIN_TS).href)})\n`)
  // an ES module, as in certmq's own package
  await writeFile(join(work, 'pkg', 'package.json'), '{ "type": "module" }\n')
  await mkdir(join(work, 'node_modules', '.bin'), { recursive: true })
  command = join(work, 'node_modules', '.bin', 'certmq')
  await symlink('../../pkg/bin/certmq', command)
  pkgBin = await realpath(pkgBin)
})

// each test's certmq runs until its test ends, passed or failed
afterEach(killSurvivors)

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** `certmq serve` through the symlinked command; resolves with its server.started line and MQTTS port. */
async function serveThroughCommand (name: string, env: { OPENSSL_CONF?: string }): Promise<{ started: Record<string, unknown>, port: number }> {
  const dataDir = join(work, name)
  await mkdir(dataDir)
  // the runner's own OPENSSL_CONF would decide for the wrapper: only the test's counts
  const proc = await serve(dataDir, { OPENSSL_CONF: env.OPENSSL_CONF, NODE_OPTIONS: `--import ${TSX_IMPORT}` }, [command, 'serve'])
  return { started: proc.started, port: proc.mqttsPort }
}

/** One TLS 1.3 connection that sends a CONNECT and reads to the end: the tickets it got, its session, whether it resumed one. */
async function handshake (port: number, session?: Buffer): Promise<{ tickets: number, session: Buffer | undefined, resumed: boolean }> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, minVersion: 'TLSv1.3', ...(session === undefined ? {} : { session }) })
  let tickets = 0
  let last: Buffer | undefined
  socket.on('session', (s: Buffer) => { tickets++; last = s })
  let resumed = false
  socket.once('secureConnect', () => { resumed = socket.isSessionReused(); socket.write(CONNECT) })
  socket.resume()
  // tickets come right after the handshake, before the CONNACK; certmq closes after refusing
  socket.setTimeout(10_000, () => { socket.destroy(new Error('certmq did not close the connection within 10 s of the CONNECT')) })
  await new Promise<void>((resolve, reject) => {
    socket.once('close', () => { resolve() })
    socket.once('error', reject)
  })
  return { tickets, session: last, resumed }
}

/**
 * What bin/certmq runs: a stand-in `node` first on PATH prints its arguments, one per line, and
 * answers the wrapper's question whether node uses the system's OpenSSL with `shared`.
 */
async function wrapperArgs (env: Record<string, string>, args = ['serve', '--config', 'a b.json'], shared = 'false'): Promise<string[]> {
  const fake = join(work, 'fake node')
  await mkdir(fake, { recursive: true })
  await writeFile(join(fake, 'node'), [
    '#!/bin/sh',
    `if [ "$1" = -p ]; then echo ${shared}; exit 0; fi`,
    'for a in "$@"; do printf \'%s\\n\' "$a"; done',
    ''
  ].join('\n'), { mode: 0o755 })
  const { stdout } = await promisify(execFile)(command, args, { env: { PATH: `${fake}:${process.env['PATH'] ?? ''}`, ...env } })
  return stdout.split('\n').filter((l) => l !== '')
}

describe('bin/certmq', () => {
  it('runs `serve` with bin/openssl.cnf, found through the symlink npm makes, with the arguments as given', async () => {
    const ours = [`--openssl-config=${join(pkgBin, 'openssl.cnf')}`, join(pkgBin, 'certmq.js'), 'serve', '--config', 'a b.json']
    expect(await wrapperArgs({})).toEqual(ours)
    expect(await wrapperArgs({ NODE_OPTIONS: '--max-old-space-size=512' })).toEqual(ours)
  })

  it('adds nothing for other commands, nor when node uses the system\'s OpenSSL, whose configuration it would replace', async () => {
    expect(await wrapperArgs({}, ['cert', 'list'])).toEqual([join(pkgBin, 'certmq.js'), 'cert', 'list'])
    expect(await wrapperArgs({}, ['serve'], 'true')).toEqual([join(pkgBin, 'certmq.js'), 'serve'])
  })

  it('adds nothing when the operator gave OpenSSL a configuration: OPENSSL_CONF, or a flag in NODE_OPTIONS in any spelling', async () => {
    const theirs = [join(pkgBin, 'certmq.js'), 'serve', '--config', 'a b.json']
    expect(await wrapperArgs({ OPENSSL_CONF: '/etc/ssl/fips.cnf' })).toEqual(theirs)
    expect(await wrapperArgs({ NODE_OPTIONS: '--openssl-config=/etc/ssl/x.cnf' })).toEqual(theirs)
    expect(await wrapperArgs({ NODE_OPTIONS: '"--openssl_config=/etc/ssl/x.cnf"' })).toEqual(theirs)
    expect(await wrapperArgs({ NODE_OPTIONS: '--max-old-space-size=512 --openssl-shared-config' })).toEqual(theirs)
  })
})

describe('TLS session tickets of the certmq command', () => {
  it('starts node with bin/openssl.cnf: one ticket per full handshake, which the device resumes with, and says so at start', async () => {
    const { started, port } = await serveThroughCommand('ours', {})
    expect(started['opensslConfig']).toBe(`${join(pkgBin, 'openssl.cnf')} (--openssl-config)`)
    const full = await handshake(port)
    expect(full).toMatchObject({ tickets: 1, resumed: false })
    // a resumed handshake gets no new ticket (with OpenSSL's defaults too, below): the device keeps its one
    const resumed = await handshake(port, full.session)
    expect(resumed).toMatchObject({ tickets: 0, resumed: true })
    expect(await handshake(port, full.session)).toMatchObject({ resumed: true })
  }, 60_000)

  it('leaves an OpenSSL configuration of the operator\'s in charge: OPENSSL_CONF', async () => {
    const empty = join(work, 'empty.cnf')
    await writeFile(empty, '# nothing: OpenSSL defaults\n')
    const { started, port } = await serveThroughCommand('env', { OPENSSL_CONF: empty })
    expect(started['opensslConfig']).toBe(`${empty} (OPENSSL_CONF)`)
    // OpenSSL's default is two tickets per TLS 1.3 handshake, and none on a resumed one
    const full = await handshake(port)
    expect(full.tickets).toBe(2)
    expect(await handshake(port, full.session)).toMatchObject({ tickets: 0, resumed: true })
  }, 60_000)
})
