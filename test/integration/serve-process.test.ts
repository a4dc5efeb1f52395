/**
 * `certmq serve` as a real process: first start with no edits, restart, kill -9 right after an
 * acknowledged registration, and a bad config file.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { within } from '../../src/timers.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa } from '../helpers/openssl.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'
import { waitFor } from '../helpers/wait-for.js'
import { MAIN_TS, TSX_IMPORT } from '../helpers/tsx.js'
import { killSurvivors, serve, stop, track, type ServeProcess } from '../helpers/serve-process.js'

async function api (proc: ServeProcess, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${proc.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

/**
 * Waits until the certificate shows its one associated client connected (or not): recorded once
 * aedes calls the client ready, which may come just after the CONNACK, and committed in batches.
 */
async function shownAs (proc: ServeProcess, token: string, certificatePem: string, connected: boolean): Promise<void> {
  const id = fingerprintOf(certificatePem)
  await waitFor(async () => {
    const clients = (await api(proc, token, 'GET', `/api/v1/certificates/${id}`)).body['associatedClients'] as Array<{ connected: boolean }> | undefined
    if (!(clients?.length === 1 && clients[0]!.connected === connected)) throw new Error(JSON.stringify(clients))
    return true
  }, { what: `certificate ${id.slice(0, 12)}… shown ${connected ? 'connected' : 'disconnected'}` })
}

let pki: OpenSslPki
let ca: OpenSslCa
const dirs: string[] = []

async function freshDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certmq-proc-'))
  dirs.push(dir)
  return dir
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  ca = await pki.ca('proc-ca')
})

// a test that failed before its own stop leaves its certmq running: ended before the next test
afterEach(killSurvivors)

afterAll(async () => {
  await pki?.cleanup()
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

describe('first start with no edits', () => {
  it('creates the data dir, the built-in CA and server certificate, and shows a generated admin token once', async () => {
    const dataDir = join(await freshDir(), 'data')
    const first = await serve(join(dataDir, '..'), { CERTMQ_DATA_DIR: dataDir })
    const token = /\n\s+(cmq_[A-Za-z0-9_-]+)\n/.exec(first.stderr())?.[1]
    expect(token, first.stderr()).toBeDefined()
    expect(existsSync(join(dataDir, 'ca', 'builtin-ca.pem'))).toBe(true)
    expect((await stat(join(dataDir, 'ca', 'builtin-ca.key'))).mode & 0o077).toBe(0)
    expect(first.started['caCertificate']).toBe(join(dataDir, 'ca', 'builtin-ca.pem'))
    // serve sets V8's growth step (runtime.heapGrowingPercent) and says so
    expect(first.started['heapGrowth']).toBe('100% (config)')
    expect((await api(first, token!, 'GET', '/api/v1/cas')).status).toBe(200)
    expect((await api(first, 'wrong', 'GET', '/api/v1/cas')).status).toBe(401)
    for (const line of first.stdout) expect(line).not.toContain(token)
    expect(await stop(first)).toBe(0)

    // the second start shows no token and still accepts the first one
    const second = await serve(join(dataDir, '..'), { CERTMQ_DATA_DIR: dataDir, CERTMQ_RUNTIME_HEAP_GROWING_PERCENT: '0' })
    expect(second.stderr()).not.toContain('cmq_')
    expect(second.started['heapGrowth']).toBe('chosen by V8')
    expect((await api(second, token!, 'GET', '/api/v1/cas')).status).toBe(200)
    // the server certificate verifies against the built-in CA for a device
    const device = await pki.leaf('first-dev', ca, { cn: 'first-dev' })
    const serverCaPem = await readFile(join(dataDir, 'ca', 'builtin-ca.pem'), 'utf8')
    const { code } = await connectDevice(second.mqttsPort, serverCaPem, { certPem: device.pem, keyPem: device.keyPem })
    expect(code).toBe(5)
    expect(await stop(second)).toBe(0)
  })
})

describe('durability', () => {
  const token = 'durability-token-0123456789'

  it('keeps every registration across a restart and loses nothing acknowledged before kill -9', async () => {
    const dataDir = await freshDir()
    const one = await serve(dataDir, { CERTMQ_ADMIN_TOKEN: token })
    const caRes = await api(one, token, 'POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })
    expect(caRes.status).toBe(201)
    const leaf = await pki.leaf('durable', ca, { cn: 'durable' })
    const certRes = await api(one, token, 'POST', '/api/v1/certificates', { caId: caRes.body['id'], certificatePem: leaf.pem, clientId: 'durable-1' })
    expect(certRes.status).toBe(201)
    // an automatic registration, acknowledged by CONNACK 0, then kill -9 at once
    const serverCaPem = await readFile(join(dataDir, 'ca', 'builtin-ca.pem'), 'utf8')
    const autoLeaf = await pki.leaf('durable-auto', ca, { cn: 'durable-auto' })
    const { code, client } = await connectDevice(one.mqttsPort, serverCaPem, { certPem: autoLeaf.pem, keyPem: autoLeaf.keyPem })
    expect(code).toBe(0)
    await endClient(client)
    // its disconnect is committed with the next batch of associated clients: wait for it, so only
    // the live device below is left shown connected at the kill
    await shownAs(one, token, autoLeaf.pem, false)
    const lastLeaf = await pki.leaf('durable-last', ca, { cn: 'durable-last' })
    const lastRes = await api(one, token, 'POST', '/api/v1/certificates', { caId: caRes.body['id'], certificatePem: lastLeaf.pem, activate: false })
    expect(lastRes.status).toBe(201)
    // a device still connected when the process dies: its record shows it connected until then
    const liveLeaf = await pki.leaf('durable-live', ca, { cn: 'durable-live' })
    const live = await connectDevice(one.mqttsPort, serverCaPem, { certPem: liveLeaf.pem, keyPem: liveLeaf.keyPem })
    expect(live.code).toBe(0)
    const liveId = fingerprintOf(liveLeaf.pem)
    await shownAs(one, token, liveLeaf.pem, true)
    expect(await stop(one, 'SIGKILL')).toBeNull()
    live.client?.end(true) // its broker is gone: nothing to wait for

    const two = await serve(dataDir, { CERTMQ_ADMIN_TOKEN: token })
    expect((await api(two, token, 'GET', `/api/v1/cas/${String(caRes.body['id'])}`)).status).toBe(200)
    expect((await api(two, token, 'GET', `/api/v1/certificates/${String(certRes.body['id'])}`)).body).toMatchObject({ clientId: 'durable-1', status: 'active' })
    expect((await api(two, token, 'GET', `/api/v1/certificates/${String(lastRes.body['id'])}`)).body).toMatchObject({ status: 'inactive' })
    const auto = await api(two, token, 'GET', '/api/v1/certificates?commonName=durable-auto')
    expect(auto.body['items']).toHaveLength(1)
    // the restarted node no longer shows the device it lost in the crash as connected
    const after = await api(two, token, 'GET', `/api/v1/certificates/${liveId}`)
    expect(after.body['associatedClients']).toMatchObject([{ clientId: 'durable-live', connected: false }])
    const released = two.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'clients.released')
    expect(released?.['certificates']).toBe(1)
    // Client ID uniqueness survives the restart
    const other = await pki.leaf('durable-other', ca, { cn: 'durable-other' })
    const dup = await api(two, token, 'POST', '/api/v1/certificates', { caId: caRes.body['id'], certificatePem: other.pem, clientId: 'durable-1' })
    expect(dup.status).toBe(409)
    expect(await stop(two)).toBe(0)
  })
})

describe('stopping', () => {
  const token = 'stopping-token-0123456789'

  it('stops on SIGTERM while a device is connected, and records it disconnected', async () => {
    const dataDir = await freshDir()
    const one = await serve(dataDir, { CERTMQ_ADMIN_TOKEN: token })
    const caRes = await api(one, token, 'POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })
    expect(caRes.status).toBe(201)
    const leaf = await pki.leaf('stays-connected', ca, { cn: 'stays-connected' })
    const serverCaPem = await readFile(join(dataDir, 'ca', 'builtin-ca.pem'), 'utf8')
    const device = await connectDevice(one.mqttsPort, serverCaPem, { certPem: leaf.pem, keyPem: leaf.keyPem })
    expect(device.code).toBe(0)
    const id = fingerprintOf(leaf.pem)
    await shownAs(one, token, leaf.pem, true)
    // the MQTTS listener used to wait for every connection to end before the broker closed them
    expect(await stop(one)).toBe(0)
    device.client?.end(true)

    const two = await serve(dataDir, { CERTMQ_ADMIN_TOKEN: token })
    const after = await api(two, token, 'GET', `/api/v1/certificates/${id}`)
    expect(after.body['associatedClients']).toMatchObject([{ clientId: 'stays-connected', connected: false }])
    expect(await stop(two)).toBe(0)
  })

  it('finishes its stop when a second signal comes during it', async () => {
    const one = await serve(await freshDir(), { CERTMQ_ADMIN_TOKEN: token })
    // as under `npm start`: Ctrl-C reaches certmq from the terminal, then again forwarded by npm
    one.child.kill('SIGINT')
    // more signals while the stop is under way: until the MQTTS listener, closed after the admin API, is gone
    const accepts = async (): Promise<boolean> => await new Promise((resolve) => {
      const socket = connect(one.mqttsPort, '127.0.0.1', () => { socket.destroy(); resolve(true) }).once('error', () => { resolve(false) })
    })
    do one.child.kill('SIGTERM')
    while (await accepts())
    const code = await one.exited
    expect(one.child.signalCode, 'killed by the second signal').toBeNull()
    expect(code).toBe(0)
    expect(one.stdout.some((l) => l.includes('"event":"server.stopped"'))).toBe(true)
  })
})

describe('SIGHUP', () => {
  const token = 'sighup-token-0123456789'

  it('rereads the MQTTS certificate and keeps the broker and its connected devices', async () => {
    const dataDir = await freshDir()
    const one = await serve(dataDir, { CERTMQ_ADMIN_TOKEN: token })
    expect((await api(one, token, 'POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })).status).toBe(201)
    const leaf = await pki.leaf('through-sighup', ca, { cn: 'through-sighup' })
    const serverCaPem = await readFile(join(dataDir, 'ca', 'builtin-ca.pem'), 'utf8')
    const device = await connectDevice(one.mqttsPort, serverCaPem, { certPem: leaf.pem, keyPem: leaf.keyPem })
    expect(device.code).toBe(0)
    // Node's default for SIGHUP is to exit: a closed terminal or a supervisor's reload must not stop the broker
    one.child.kill('SIGHUP')
    const reload = await waitFor(() => one.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'tls.reload_unchanged'),
      { what: 'tls.reload_unchanged' })
    expect(reload).toMatchObject({ trigger: 'signal', certificate: join(dataDir, 'tls', 'server.pem') })
    // a round trip after the reload: the session is still served, not just not yet seen closed
    await device.client!.subscribeAsync('fleet/through-sighup/#')
    expect(device.client?.connected).toBe(true)
    expect((await fetch(`${one.adminUrl}/healthz`)).status).toBe(200)
    await endClient(device.client)
    expect(await stop(one)).toBe(0)
  })

  it('does not die of a SIGHUP that comes while the config is still being read', async () => {
    const dataDir = await freshDir()
    // a FIFO as the config file holds the start in the config read until the test writes it
    const fifo = join(dataDir, 'certmq.json')
    await promisify(execFile)('mkfifo', [fifo])
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, MAIN_TS, 'serve', '--config', fifo], {
      cwd: dataDir,
      env: { ...process.env, CERTMQ_DATA_DIR: dataDir, CERTMQ_MQTTS_HOST: '127.0.0.1', CERTMQ_MQTTS_PORT: '0', CERTMQ_ADMIN_PORT: '0', CERTMQ_ADMIN_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    track(child)
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => { child.once('exit', (code, signal) => { resolve(signal ?? code) }) })
    // resolves once certmq has opened the FIFO to read its config
    const writer = await open(fifo, 'w')
    child.kill('SIGHUP')
    const early = await within<NodeJS.Signals | number | null | undefined>(exited, 500, undefined)
    await writer.writeFile('{}')
    await writer.close()
    expect(early, 'killed by the SIGHUP').toBeUndefined()
    await waitFor(() => stdout.includes('"event":"server.started"'), { timeoutMs: 30_000, what: 'server.started' })
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})

describe('bad configuration', () => {
  it('exits 78 naming the misspelt key and the file, and every other problem', async () => {
    const dir = await freshDir()
    await writeFile(join(dir, 'broker.config.json'), JSON.stringify({ mqtts: { prot: 8883 }, admin: { port: 'x' } }))
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, MAIN_TS, 'serve'], { cwd: dir, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    track(child)
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const code = await new Promise<number | null>((resolve) => { child.once('exit', resolve) })
    expect(code).toBe(78)
    expect(stderr).toContain('error CONFIG_INVALID')
    expect(stderr).toMatch(/config mqtts\.prot \(from .*broker\.config\.json\): unknown key/)
    expect(stderr).toMatch(/config admin\.port .*must be integer, found "x"/)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })
})
