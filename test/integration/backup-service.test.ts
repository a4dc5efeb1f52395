/**
 * BackupService over a real embedded store: one backup at a time, a failed copy leaves nothing
 * behind, and only its own copies can be discarded.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.js'
import { BackupService, backupFileName } from '../../src/registry/backup-service.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LogSink } from '../helpers/log-sink.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-backup-service-')
const stores: EmbeddedRegistryStore[] = []

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
})

async function openStore (): Promise<{ store: EmbeddedRegistryStore, dir: string }> {
  const dataDir = tempDir()
  const store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
  await store.open()
  stores.push(store)
  await store.setMeta('hello', 'world')
  return { store, dir: join(dataDir, 'backup-tmp') }
}

function service (store: Pick<EmbeddedRegistryStore, 'backup'>, dir: string): BackupService {
  return new BackupService({
    store, dir, eventLog: { flush: async () => {} }, now: () => new Date('2026-11-29T16:15:02.123Z'), logger: createLogger('silent', new LogSink())
  })
}

describe('BackupService', () => {
  it('makes one backup at a time: a second one meanwhile is refused with BACKUP_IN_PROGRESS', async () => {
    const { store, dir } = await openStore()
    let letGo: () => void = () => {}
    const gate = new Promise<void>((resolve) => { letGo = resolve })
    const slow = { backup: async (into: string) => { await gate; return await store.backup(into) } }
    const backups = service(slow, dir)
    const first = backups.create('ops')
    await expect(backups.create('ci')).rejects.toMatchObject({ code: 'BACKUP_IN_PROGRESS' })
    letGo()
    const made = await first
    expect(made).toMatchObject({ fileName: 'certmq-backup-20261129T161502Z.mdb', createdAt: '2026-11-29T16:15:02.123Z' })
    expect(made.bytes).toBeGreaterThan(0)
    expect(made.sha256).toMatch(/^[0-9a-f]{64}$/)
    // once it is done, the next one goes ahead
    const next = await backups.create('ci')
    await backups.discard(made.path)
    await backups.discard(next.path)
    expect(readdirSync(dir)).toEqual([])
  })

  it('leaves nothing behind when the copy fails, and stays usable', async () => {
    const { store, dir } = await openStore()
    let fail = true
    const flaky = { backup: async (into: string) => { if (fail) throw new Error('disk full'); return await store.backup(into) } }
    const backups = service(flaky, dir)
    await expect(backups.create()).rejects.toThrow('disk full')
    expect(readdirSync(dir)).toEqual([])
    fail = false
    const made = await backups.create()
    expect(existsSync(made.path)).toBe(true)
  })

  it('discards only copies it made', async () => {
    const { store, dir } = await openStore()
    const backups = service(store, dir)
    await expect(backups.discard(join(dir, '..', 'registry', 'data.mdb'))).rejects.toMatchObject({ code: 'INTERNAL' })
    await expect(backups.discard('/etc/passwd')).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(existsSync(join(dir, '..', 'registry', 'data.mdb'))).toBe(true)
  })

  it('names files by their UTC time, to the second', () => {
    expect(backupFileName('2026-01-02T03:04:05.678Z')).toBe('certmq-backup-20260102T030405Z.mdb')
  })
})
