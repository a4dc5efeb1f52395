/**
 * The embedded store closed while an online backup is being copied (certmq stopped by SIGTERM in
 * the middle of `certmq backup`): the close waits for the copy, which LMDB makes on a thread of
 * its own with the environment's pointer, instead of closing the environment under it.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open } from 'lmdb'
import { describe, expect, it } from 'vitest'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-backup-close-')

describe('EmbeddedRegistryStore.backup and close', () => {
  it('finishes the copy under way before it closes, and the copy opens whole', async () => {
    const dataDir = tempDir()
    const store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
    await store.open()
    // enough data that the copy is still running when close() is called
    const big = 'x'.repeat(1 << 20)
    for (let i = 0; i < 64; i++) await store.setMeta(`filler-${i}`, `${big}${i}`)
    const into = join(dataDir, 'copy')
    mkdirSync(into)
    const copy = store.backup(into)
    // the copy has started on its thread (the queued client writes are flushed first)
    await new Promise((resolve) => setTimeout(resolve, 2))
    await store.close()
    const { file } = await copy
    expect(file).toBe(join(into, 'data.mdb'))
    const copied = open({ path: into, noSubdir: false, maxDbs: 16 })
    try {
      expect(copied.getKeys().asArray).toContain('meta')
    } finally {
      await copied.close()
    }
  }, 60_000)
})
