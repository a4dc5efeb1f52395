/**
 * EmbeddedRegistryStore: the RegistryStore contract, plus what only an on-disk store has to show
 * (STYLE §6): data and indexes intact after reopen, every acknowledged write kept when the
 * writing process is killed with SIGKILL, and flushed to the disk before it is acknowledged.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { TSX_IMPORT } from '../helpers/tsx.js'
import { waitFor } from '../helpers/wait-for.js'
import { describeRegistryStore, instant, makeCa, makeCertificate, makeClient, rejectsWith } from '../contract/registry-store.contract.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WRITER = fileURLToPath(new URL('../helpers/embedded-store-writer.ts', import.meta.url))

async function makeTempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'certmq-embedded-'))
}

describeRegistryStore('EmbeddedRegistryStore', async () => {
  const dir = await makeTempDir()
  const store = new EmbeddedRegistryStore({ path: join(dir, 'registry') })
  return {
    store,
    cleanup: async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
})

describe('EmbeddedRegistryStore on disk', () => {
  let dir: string
  const opened: EmbeddedRegistryStore[] = []

  async function openStore (path = join(dir, 'registry')): Promise<EmbeddedRegistryStore> {
    const store = new EmbeddedRegistryStore({ path })
    await store.open()
    opened.push(store)
    return store
  }

  /** An open store holding one CA and one active certificate of it. */
  async function storeWithCertificate (): Promise<{ store: EmbeddedRegistryStore, cert: ReturnType<typeof makeCertificate> }> {
    const store = await openStore()
    const ca = makeCa()
    await store.insertCa(ca, 10)
    const cert = makeCertificate(ca)
    await store.insertCertificate(cert)
    return { store, cert }
  }

  beforeEach(async () => {
    dir = await makeTempDir()
  })

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('reads a CA stored before host binding existed as unbound, and keeps a CRL across a reopen', async () => {
    const store = await openStore()
    const { hosts: _hosts, ...older } = makeCa()
    await store.insertCa(older as ReturnType<typeof makeCa>, 10)
    expect((await store.getCa(older.id))?.hosts).toEqual([])
    expect((await store.listCas()).find((ca) => ca.id === older.id)?.hosts).toEqual([])
    const state = { thisUpdate: instant(10), nextUpdate: instant(20), revokedCount: 1, importedAt: instant(11) }
    await store.replaceCrl(older.id, { der: Buffer.from('3000', 'hex'), serials: ['0A'] }, state)
    await store.close()
    const reopened = await openStore()
    expect(await reopened.getCrl(older.id)).toEqual({ der: Buffer.from('3000', 'hex'), serials: ['0A'] })
    expect((await reopened.getCa(older.id))?.crl).toEqual(state)
  })

  it('creates its directory, parents included, when it is missing', async () => {
    const store = await openStore(join(dir, 'a', 'b.c', 'registry'))
    await store.setMeta('k', 'v')
    expect(await store.getMeta('k')).toBe('v')
  })

  it('reports STORE_UNAVAILABLE with the path and the cause when the directory cannot be created', async () => {
    await writeFile(join(dir, 'plain-file'), 'not a directory')
    const path = join(dir, 'plain-file', 'registry')
    const err = await rejectsWith(new EmbeddedRegistryStore({ path }).open(), 'STORE_UNAVAILABLE')
    expect(err.message).toContain(`embedded store at ${path}: `)
    expect(err.details).toMatchObject({ path })
    expect(err.cause).toBeInstanceOf(Error)
  })

  it('keeps CAs, certificates, the deny list, associated clients and meta across close and reopen', async () => {
    const first = await openStore()
    const ca = makeCa()
    await first.insertCa(ca, 10)
    const kept = makeCertificate(ca, { clientId: 'truck-1' })
    const revoked = makeCertificate(ca)
    await first.insertCertificate(kept)
    await first.insertCertificate(revoked)
    await first.transitionCertificate(revoked.id, ['active'], 'revoked', instant(100))
    await first.recordClientConnected(kept.id, makeClient('truck-1', 'node-a', instant(50)))
    await first.setMeta('schemaVersion', '1')
    await first.close()

    const second = await openStore()
    expect(await second.listCas()).toEqual([ca])
    expect(await second.getCertificate(kept.id)).toEqual(kept)
    expect(await second.getCertificate(revoked.id)).toMatchObject({ status: 'revoked', updatedAt: instant(100) })
    expect(await second.isDenied(revoked.id)).toBe(true)
    expect(await second.getAssociatedClients(kept.id)).toEqual([makeClient('truck-1', 'node-a', instant(50))])
    expect(await second.getMeta('schemaVersion')).toBe('1')
  })

  it('commits associated clients in order while an earlier batch is still being committed, and before close', async () => {
    const { store, cert } = await storeWithCertificate()
    await store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
    // the first read starts a commit; the disconnect queued once it is under way goes into a second one
    const first = store.getAssociatedClients(cert.id)
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    await store.recordClientDisconnected(cert.id, 'truck-1', 'node-a', instant(2))
    const second = await store.getAssociatedClients(cert.id)
    // a read sees at least what was recorded before it was called
    expect((await first).map((c) => c.clientId)).toEqual(['truck-1'])
    expect(second).toEqual([{ ...makeClient('truck-1', 'node-a', instant(1)), connected: false, lastSeenAt: instant(2) }])
    // queued, not yet committed when close() is called
    await store.recordClientConnected(cert.id, makeClient('truck-2', 'node-a', instant(3)))
    await store.close()
    const reopened = await openStore()
    expect((await reopened.getAssociatedClients(cert.id)).map((c) => c.clientId)).toEqual(['truck-2', 'truck-1'])
  })

  it('commits a batch larger than one transaction whole, and a later batch after it (a reconnect of 250 devices)', async () => {
    const store = await openStore()
    const ca = makeCa()
    await store.insertCa(ca, 10)
    const certs = Array.from({ length: 250 }, () => makeCertificate(ca))
    for (const cert of certs) await store.insertCertificate(cert)
    for (const [i, cert] of certs.entries()) await store.recordClientConnected(cert.id, makeClient(`dev-${i}`, 'node-a', instant(1)))
    // the read flushes the 250 connects in several transactions; the disconnects queued while
    // they commit form a second batch that must land after the whole first one. Queued in reverse,
    // its first transaction holds the certificates of the first batch's last ones
    const first = store.getAssociatedClients(certs[0]!.id) // takes the batch at once
    const queued = [...certs.entries()].reverse().map(async ([i, cert]) => { await store.recordClientDisconnected(cert.id, `dev-${i}`, 'node-a', instant(2)) })
    const second = store.getAssociatedClients(certs[0]!.id) // while the first batch's transactions are committing
    await Promise.all(queued)
    expect((await first).map((c) => c.clientId)).toEqual(['dev-0'])
    expect((await second).map((c) => c.connected)).toEqual([false])
    for (const [i, cert] of certs.entries()) {
      expect(await store.getAssociatedClients(cert.id), `certificate ${i}`).toEqual([{ ...makeClient(`dev-${i}`, 'node-a', instant(1)), connected: false, lastSeenAt: instant(2) }])
    }
  })

  /** A store with two certificates, each with a queued connect, whose environment then fails under it (closed behind its back). */
  async function storeFailingUnderQueuedClients (onClientFlushError: (err: { code: string, message: string }, certificates: number) => void): Promise<{ store: EmbeddedRegistryStore, certs: Array<ReturnType<typeof makeCertificate>> }> {
    const store = new EmbeddedRegistryStore({ path: join(dir, 'registry'), onClientFlushError })
    await store.open()
    const ca = makeCa()
    await store.insertCa(ca, 10)
    const certs = [makeCertificate(ca), makeCertificate(ca)]
    for (const cert of certs) await store.insertCertificate(cert)
    for (const [i, cert] of certs.entries()) await store.recordClientConnected(cert.id, makeClient(`dev-${i}`, 'node-a', instant(1)))
    await store.eventTable().root.close()
    return { store, certs }
  }

  it('reports a failed associated-client commit with the store code and how many certificates it held', async () => {
    const failures: Array<{ code: string, message: string, certificates: number }> = []
    const { store, certs } = await storeFailingUnderQueuedClients((err, certificates) => { failures.push({ code: err.code, message: err.message, certificates }) })
    try {
      await expect(store.getAssociatedClients(certs[0]!.id)).rejects.toThrow()
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatchObject({ code: 'STORE_UNAVAILABLE', certificates: 2 })
      expect(failures[0]!.message).toContain('record the clients of 2 certificates')
    } finally {
      await store.close().catch(() => {})
    }
  })

  it('still closes when the failure report itself throws', async () => {
    let reported = 0
    const { store, certs } = await storeFailingUnderQueuedClients(() => { reported++; throw new Error('a broken logger') })
    await expect(store.getAssociatedClients(certs[0]!.id)).rejects.toThrow()
    expect(reported).toBe(1)
    await expect(store.close()).resolves.toBeUndefined()
  })

  it('does not bring back the clients of a certificate deleted while their commit is queued', async () => {
    const { store, cert } = await storeWithCertificate()
    await store.transitionCertificate(cert.id, ['active'], 'inactive', instant(1))
    await store.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(2)))
    const read = store.getAssociatedClients(cert.id)
    await store.deleteCertificate(cert.id, ['inactive'])
    expect(await read).toEqual([])
    await store.close()
    const reopened = await openStore()
    expect(await reopened.getAssociatedClients(cert.id)).toEqual([])
  })

  /** Closes `store` and opens it again as after a crash: with the lock its process left behind. */
  async function reopenAfterCrash (store: EmbeddedRegistryStore): Promise<EmbeddedRegistryStore> {
    await store.close()
    await writeFile(join(dir, 'registry', 'certmq.lock'), '2147483646\n')
    return await openStore()
  }

  it('after a crash, marks the clients left connected disconnected, keeping their last-seen time', async () => {
    const { store: first, cert } = await storeWithCertificate()
    const ca = (await first.listCas())[0]!
    const other = makeCertificate(ca)
    await first.insertCertificate(other)
    await first.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
    await first.recordClientConnected(other.id, makeClient('truck-2', 'node-a', instant(3)))
    await first.recordClientConnected(other.id, makeClient('truck-3', 'node-a', instant(4)))
    await first.recordClientDisconnected(other.id, 'truck-3', 'node-a', instant(5))
    const store = await reopenAfterCrash(first)
    expect(await store.releaseStaleClients('node-a')).toBe(2)
    expect(await store.getAssociatedClients(cert.id)).toEqual([makeClient('truck-1', 'node-a', instant(1), { connected: false })])
    expect(await store.getAssociatedClients(other.id)).toEqual([
      makeClient('truck-3', 'node-a', instant(4), { connected: false, lastSeenAt: instant(5) }),
      makeClient('truck-2', 'node-a', instant(3), { connected: false })
    ])
    // nothing left to change
    expect(await store.releaseStaleClients('node-a')).toBe(0)
  })

  it('after a crash, releases the clients every node left connected, as this process is its only writer (a node renamed since leaves none behind)', async () => {
    const { store: first, cert } = await storeWithCertificate()
    await first.recordClientConnected(cert.id, makeClient('truck-1', 'old-hostname', instant(1)))
    await first.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(2)))
    const store = await reopenAfterCrash(first)
    expect(await store.releaseStaleClients('node-a')).toBe(1)
    expect((await store.getAssociatedClients(cert.id)).map((c) => [c.node, c.connected])).toEqual([['node-a', false], ['old-hostname', false]])
  })

  it('after a clean close, changes nothing (a clean stop recorded every disconnect)', async () => {
    const { store: first, cert } = await storeWithCertificate()
    await first.recordClientConnected(cert.id, makeClient('truck-1', 'node-a', instant(1)))
    await first.close()
    const store = await openStore()
    expect(await store.releaseStaleClients('node-a')).toBe(0)
    expect(await store.getAssociatedClients(cert.id)).toEqual([makeClient('truck-1', 'node-a', instant(1))])
  })

  it('rebuilds its indexes on reopen, so CLIENT_ID_TAKEN, CA filters and CA_HAS_ACTIVE_CERTIFICATES still hold', async () => {
    const first = await openStore()
    const ca = makeCa()
    await first.insertCa(ca, 10)
    const cert = makeCertificate(ca, { clientId: 'truck-7' })
    await first.insertCertificate(cert)
    await first.close()

    const second = await openStore()
    const err = await rejectsWith(second.insertCertificate(makeCertificate(ca, { clientId: 'truck-7' })), 'CLIENT_ID_TAKEN')
    expect(err.details).toMatchObject({ takenBy: cert.id })
    expect((await second.listCertificates({ caId: ca.id, limit: 10 })).items).toEqual([cert])
    expect((await second.listCertificates({ clientId: 'truck-7', limit: 10 })).items).toEqual([cert])
    await rejectsWith(second.deleteCa(ca.id), 'CA_HAS_ACTIVE_CERTIFICATES')
  })

  it('keeps every acknowledged insert when the writing process is killed with SIGKILL', async () => {
    const path = join(dir, 'registry')
    const ca = makeCa()
    const seedPath = join(dir, 'seed.json')
    await writeFile(seedPath, JSON.stringify({ ca, template: makeCertificate(ca) }))

    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, seedPath, '1000000'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))

    const acknowledged: string[] = []
    for await (const line of createInterface({ input: child.stdout })) {
      const id = /^ack ([0-9a-f]{64})$/.exec(line)?.[1]
      if (id === undefined) continue
      acknowledged.push(id)
      // lines still buffered after the kill were printed, so acknowledged, before it
      if (acknowledged.length === 20) child.kill('SIGKILL')
    }
    const signal = await exited
    expect(signal, `writer should die by SIGKILL; stderr: ${stderr}`).toBe('SIGKILL')
    expect(acknowledged.length).toBeGreaterThanOrEqual(20)

    const store = await openStore(path)
    for (const id of acknowledged) {
      expect(await store.getCertificate(id), `acknowledged certificate ${id}`).toMatchObject({ id, caId: ca.id })
    }
    const stored = []
    let cursor: string | undefined
    do {
      const page = await store.listCertificates({ caId: ca.id, limit: 500, cursor })
      stored.push(...page.items)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    expect(stored.length).toBeGreaterThanOrEqual(acknowledged.length)
    // the store is usable after the crash, Client IDs included
    const last = stored[stored.length - 1]
    await rejectsWith(store.insertCertificate(makeCertificate(ca, { clientId: last?.clientId ?? null })), 'CLIENT_ID_TAKEN')
    await store.insertCertificate(makeCertificate(ca, { clientId: 'after-crash' }))
  })
})

const execFileAsync = promisify(execFile)
const SYNC_CALLS = ['fdatasync', 'fsync', 'msync']
const hasStrace = spawnSync('strace', ['-V']).status === 0
// never skipped under CI: .ci/run installs strace
const straceSkip = !hasStrace && process.env['CI'] === undefined ? 'strace not installed (apt-get install strace)' : undefined
if (straceSkip !== undefined) process.stderr.write(`embedded-store.test.ts: flush test skipped: ${straceSkip}\n`)

/** The calls of `names` counted in an `strace -c` summary (columns: % time, seconds, usecs/call, calls, [errors], syscall). */
function callsIn (summary: string, names: readonly string[]): number {
  let calls = 0
  for (const line of summary.split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (names.includes(fields.at(-1) ?? '') && /^\d+$/.test(fields[3] ?? '')) calls += Number(fields[3])
  }
  return calls
}

// SIGKILL leaves the page cache to the kernel, so the crash test above passes with syncing off
// (lmdb noSync): only the sync calls themselves show that a write reached the disk when acknowledged
describe.skipIf(straceSkip !== undefined)(`EmbeddedRegistryStore flushing${straceSkip === undefined ? '' : ` — skipped: ${straceSkip}`}`, () => {
  it('makes at least one sync call (fdatasync, fsync, msync) per acknowledged write', async () => {
    const dir = await makeTempDir()
    try {
      const ca = makeCa()
      const seedPath = join(dir, 'seed.json')
      await writeFile(seedPath, JSON.stringify({ ca, template: makeCertificate(ca) }))
      const summaryPath = join(dir, 'strace.txt')
      const writes = 30
      // -f: lmdb may flush from a thread of its own
      const { stdout } = await execFileAsync('strace', ['-f', '-c', '-e', `trace=${SYNC_CALLS.join(',')}`, '-o', summaryPath,
        process.execPath, '--import', TSX_IMPORT, WRITER, join(dir, 'registry'), seedPath, String(writes)], { cwd: REPO_ROOT })
      const acknowledged = stdout.split('\n').filter((line) => /^ack [0-9a-f]{64}$/.test(line)).length
      expect(acknowledged).toBe(writes)
      const summary = await readFile(summaryPath, 'utf8')
      expect(callsIn(summary, SYNC_CALLS), `sync calls for ${acknowledged} acknowledged writes; strace -c:\n${summary}`).toBeGreaterThanOrEqual(acknowledged)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

interface RaceResult { won: number[], missedFirstSlot: boolean }

/** A lock-racer.ts process: its stdout lines as they come, and the first line matching a pattern. */
function startRacer (base: string, dirs: number): { child: ChildProcess, line: (pattern: RegExp, timeoutMs: number) => Promise<string>, exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, join(REPO_ROOT, 'test/helpers/lock-racer.ts'), base, String(dirs), '15'], { stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  let stderr = ''
  createInterface({ input: child.stdout! }).on('line', (line) => { lines.push(line) })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  const line = async (pattern: RegExp, timeoutMs: number): Promise<string> => await waitFor(() => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`racer ${child.pid} exited (${child.exitCode ?? child.signalCode}): ${stderr}`)
    return lines.find((l) => pattern.test(l))
  }, { timeoutMs, what: `racer ${child.pid} line ${String(pattern)}` })
  return { child, line, exited }
}

describe('EmbeddedRegistryStore: one process per data directory', () => {
  it('refuses to open a store another running process holds (STORE_UNAVAILABLE naming its pid), and takes over a stale lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-lock-'))
    try {
      // a lock held by a live process: this test's parent
      await writeFile(join(dir, 'certmq.lock'), `${process.ppid}\n`)
      const blocked = new EmbeddedRegistryStore({ path: dir })
      await expect(blocked.open()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining(`in use by process ${process.ppid}`) })
      // a lock left behind by a process that is gone (kill -9)
      await writeFile(join(dir, 'certmq.lock'), '2147483646\n')
      const store = new EmbeddedRegistryStore({ path: dir })
      await store.open()
      await store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('takes over a lock whose pid runs again after a reboot or as another process (pid reuse), and leaves a lock that is not its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certmq-lock-'))
    const lock = join(dir, 'certmq.lock')
    try {
      const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim()
      // the pid runs (this test's parent), but it is not the process that wrote the lock
      for (const stale of [{ pid: process.ppid, bootId: 'an-earlier-boot' }, { pid: process.ppid, bootId, startTime: '1' }]) {
        await writeFile(lock, `${JSON.stringify(stale)}\n`)
        const store = new EmbeddedRegistryStore({ path: dir })
        await store.open()
        expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid, bootId })
        // an operator replaced the lock meanwhile: closing does not remove somebody else's
        await writeFile(lock, `${process.ppid}\n`)
        await store.close()
        expect(await readFile(lock, 'utf8')).toBe(`${process.ppid}\n`)
        await rm(lock)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it.each([
    ['a fresh', false],
    ['a stale lock (kill -9) in', true]
  ])('gives %s data directory to one of three processes that take its lock at the same moment', async (_what, stale) => {
    const base = await mkdtemp(join(tmpdir(), 'certmq-lock-race-'))
    const dirs = 40
    try {
      if (stale) {
        for (let i = 0; i < dirs; i++) {
          await mkdir(join(base, `d${i}`))
          await writeFile(join(base, `d${i}`, 'certmq.lock'), '2147483646\n')
        }
      }
      const racers = [startRacer(base, dirs), startRacer(base, dirs), startRacer(base, dirs)]
      try {
        // loading takes seconds on a busy machine: the race starts once all three are loaded,
        // with a margin for the go line to reach them, so they take each slot together
        await Promise.all(racers.map(async (racer) => { await racer.line(/^ready$/, 30_000) }))
        const start = Date.now() + 500
        for (const racer of racers) racer.child.stdin!.write(`go ${start}\n`)
        const results = await Promise.all(racers.map(async (racer) => JSON.parse(await racer.line(/^\{/, 30_000)) as RaceResult))
        // a racer that came late did not race: the test would prove nothing
        expect(results.map((r) => r.missedFirstSlot), `a racer missed its first slot (start ${start}): the machine is too busy for this race`).toEqual([false, false, false])
        // every directory has exactly one owner: none won twice, none lost by all
        expect(results.flatMap((r) => r.won).sort((x, y) => x - y)).toEqual(Array.from({ length: dirs }, (_, i) => i))
        // only now may the racers let go: until every result is in, each lock's owner runs
        for (const racer of racers) racer.child.stdin!.write('exit\n')
        expect(await Promise.all(racers.map(async (racer) => await racer.exited))).toEqual([0, 0, 0])
      } finally {
        for (const racer of racers) if (racer.child.exitCode === null && racer.child.signalCode === null) racer.child.kill('SIGKILL')
      }
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  }, 90_000)
})
