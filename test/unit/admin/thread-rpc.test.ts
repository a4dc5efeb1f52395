/**
 * The calls the admin thread makes into the broker's thread (src/admin/thread/rpc.ts), over a
 * real MessageChannel: values, Dates and Buffers arrive as sent, a CertmqError arrives with its
 * code and details, a system error keeps its code and stack, and only the methods backend.ts
 * lists can be called. And the guard the thread exists for: the broker's own module graph does
 * not load the admin HTTP stack.
 */
import { join, resolve } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { CertmqError } from '../../../src/errors.js'
import type { AdminBackend } from '../../../src/admin/thread/backend.js'
import { answerCall, remote, RpcClient, type ToAdmin, type ToBroker } from '../../../src/admin/thread/rpc.js'
import { within } from '../../../src/timers.js'
import { deserializeError, serializeError } from '../../../src/thread/errors.js'
import { CA_METHODS, type CaBackend, type StatusBackend, STATUS_METHODS } from '../../../src/admin/thread/backend.js'
import { staticGraph } from '../../helpers/module-graph.js'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const channels: MessageChannel[] = []

afterEach(() => {
  for (const channel of channels.splice(0)) { channel.port1.close(); channel.port2.close() }
})

/** What the backend stub records: which method ran with which arguments. */
const calls: Array<{ method: string, args: unknown[] }> = []

function backendStub (): AdminBackend {
  const record = (method: string) => async (...args: unknown[]): Promise<never> => {
    calls.push({ method, args })
    throw new CertmqError('CA_NOT_FOUND', `no CA ${String(args[0])}`, { id: args[0] })
  }
  const cas = {
    ...Object.fromEntries(CA_METHODS.map((m) => [m, record(m)])),
    get: async (id: string) => { calls.push({ method: 'get', args: [id] }); return { id, notBefore: new Date('2026-01-02T03:04:05Z') } },
    importCrl: async (id: string, body: string | Buffer) => {
      calls.push({ method: 'importCrl', args: [id, body] })
      if (typeof body === 'string') return { caId: id, isBuffer: false, bytes: body.length, backing: 0 }
      return { caId: id, isBuffer: Buffer.isBuffer(body), bytes: body.byteLength, backing: body.buffer.byteLength }
    },
    // a result that cannot be cloned (a function inside)
    list: async () => ({ items: [], next: () => 1 }),
    registrationCode: async function failingStoreWrite (): Promise<never> {
      throw new CertmqError('STORE_UNAVAILABLE', 'could not write', {}, { cause: Object.assign(new Error('MDB_MAP_FULL: Environment mapsize limit reached'), { code: 'MDB_MAP_FULL' }) })
    }
  }
  const status: StatusBackend = {
    mqtts: async () => true,
    store: async function failingListen (): Promise<never> { throw Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' }) },
    metrics: async () => 'certmq_up 1\n'
  }
  // the other targets are never reached in these tests
  return { cas, certificates: {}, events: {}, status } as unknown as AdminBackend
}

/** The two ends joined by a real MessageChannel, as the worker and the broker's thread are. */
function connected (): { client: RpcClient } {
  const channel = new MessageChannel()
  channels.push(channel)
  const backend = backendStub()
  channel.port2.on('message', (message: ToBroker) => {
    if (message.type === 'call') answerCall(backend, message, (answer) => { channel.port2.postMessage(answer) })
  })
  const client = new RpcClient((message) => { channel.port1.postMessage(message) })
  channel.port1.on('message', (message: ToAdmin) => { if (message.type !== 'close') client.settle(message) })
  return { client }
}

describe('admin thread calls', () => {
  it('returns records with their Dates, and hands a Buffer argument over as a Buffer', async () => {
    const { client } = connected()
    const cas = remote<CaBackend>(client, 'cas', CA_METHODS)
    const ca = await cas.get('abc') as unknown as { id: string, notBefore: Date }
    expect(ca.id).toBe('abc')
    expect(ca.notBefore).toBeInstanceOf(Date)
    expect(ca.notBefore.toISOString()).toBe('2026-01-02T03:04:05.000Z')
    // a small Buffer is a view into Node's shared pool: only its own 3 bytes cross
    const pooled = Buffer.from([0x30, 0x82, 0x01])
    expect(pooled.buffer.byteLength).toBeGreaterThan(3)
    const crl = await cas.importCrl('abc', pooled) as unknown as { isBuffer: boolean, bytes: number, backing: number }
    expect(crl).toEqual({ caId: 'abc', isBuffer: true, bytes: 3, backing: 3 })
  })

  it('rejects with a CertmqError carrying the code, message and details the service threw', async () => {
    const { client } = connected()
    const cas = remote<CaBackend>(client, 'cas', CA_METHODS)
    const err = await cas.delete('missing').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CertmqError)
    expect(err).toMatchObject({ code: 'CA_NOT_FOUND', message: 'no CA missing', details: { id: 'missing' }, status: 404 })
  })

  it('keeps a system error\'s code and the stack from the broker\'s thread', async () => {
    const { client } = connected()
    const status = remote<StatusBackend>(client, 'status', STATUS_METHODS)
    const err = await status.store().catch((e: unknown) => e) as Error & { code?: string }
    expect(err).not.toBeInstanceOf(CertmqError)
    expect(err.code).toBe('EADDRINUSE')
    // the stack of the throw on the other side, not of the place that rebuilt the error
    expect(err.stack).toContain('failingListen')
    expect(await status.metrics()).toBe('certmq_up 1\n')
  })

  it('keeps the cause of a CertmqError (the store failure behind STORE_UNAVAILABLE) and where it was thrown', async () => {
    const { client } = connected()
    const cas = remote<CaBackend>(client, 'cas', CA_METHODS)
    const err = await cas.registrationCode().catch((e: unknown) => e) as CertmqError
    expect(err).toBeInstanceOf(CertmqError)
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 })
    expect(err.stack).toContain('failingStoreWrite')
    expect(err.cause).toMatchObject({ message: 'MDB_MAP_FULL: Environment mapsize limit reached', code: 'MDB_MAP_FULL' })
  })

  it('refuses a method or a target that backend.ts does not list, without calling anything', async () => {
    const { client } = connected()
    calls.length = 0
    for (const [target, method] of [['cas', 'constructor'], ['cas', 'checkPossession'], ['store', 'getMeta'], ['__proto__', 'get']] as const) {
      const err = await client.call(target as 'cas', method, []).catch((e: unknown) => e)
      expect(err, `${target}.${method}`).toMatchObject({ code: 'INTERNAL' })
    }
    expect(calls).toEqual([])
  })

  it('fails a call whose argument cannot be cloned, and the next call still works', async () => {
    const { client } = connected()
    const err = await client.call('cas', 'get', [() => 1]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(await client.call('cas', 'get', ['next'])).toMatchObject({ id: 'next' })
  })

  it('answers a call whose result cannot be cloned with an error instead of leaving it pending', async () => {
    const { client } = connected()
    const cas = remote<CaBackend>(client, 'cas', CA_METHODS)
    const err = await within(cas.list().catch((e: unknown) => e), 2000, 'still pending')
    expect(err).toBeInstanceOf(Error)
    expect(await client.call('cas', 'get', ['after'])).toMatchObject({ id: 'after' })
  })

  it('waits for an answer at most the given time (within)', async () => {
    expect(await within(Promise.resolve(true), 1000, false)).toBe(true)
    const never = new Promise<boolean>(() => {})
    const started = Date.now()
    expect(await within(never, 50, false)).toBe(false)
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
  })

  it('restores a CertmqError only for a code in the catalog', () => {
    expect(deserializeError({ name: 'CertmqError', message: 'm', code: 'NOT_A_CODE' })).not.toBeInstanceOf(CertmqError)
    expect(deserializeError(serializeError(new CertmqError('CERT_REVOKED', 'gone', { id: 'x' })))).toMatchObject({ code: 'CERT_REVOKED', details: { id: 'x' } })
    expect(serializeError('a string')).toEqual({ name: 'Error', message: 'a string' })
  })
})

describe('the broker thread\'s module graph', () => {
  it('does not load fastify, its validators and schemas, or the admin app (they run in the admin thread)', () => {
    const { files, packages } = staticGraph(join(ROOT, 'src', 'server.ts'))
    expect(files.has(join(ROOT, 'src', 'admin', 'thread', 'admin-thread.ts'))).toBe(true)
    expect(packages.has('aedes')).toBe(true)
    for (const admin of ['fastify', 'ajv', '@sinclair/typebox', '@fastify/swagger']) expect(packages, admin).not.toContain(admin)
    expect([...files].filter((f) => f.includes(`${join('src', 'admin')}/`) && !f.includes(join('src', 'admin', 'thread')) && !f.endsWith('admin-tokens.ts') && !f.endsWith('principal.ts'))).toEqual([])
  })

  it('keeps the admin thread off the registry services and the X.509 libraries (they stay in the broker\'s thread)', () => {
    const { files, packages } = staticGraph(join(ROOT, 'src', 'admin', 'thread', 'worker.ts'))
    expect(packages.has('fastify')).toBe(true)
    for (const broker of ['@peculiar/x509', '@peculiar/asn1-x509', 'aedes', 'lmdb', 'prom-client']) expect(packages, broker).not.toContain(broker)
    expect([...files].filter((f) => f.includes(`${join('src', 'registry')}/`) && !f.endsWith('client-id-format.ts'))).toEqual([])
  })
})
