/**
 * Online backup and offline restore, as an operator runs them: `certmq backup` against a running
 * certmq (POST /api/v1/backup), `certmq restore` into its data directory once it is stopped, and a
 * restart on the restored store. Also what a restore refuses, and that a refusal changes nothing.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { open } from 'lmdb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { runCertmqCli, type CliRun } from '../helpers/cli.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa, type OpenSslCert } from '../helpers/openssl.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('certmq-backup-')
let pki: OpenSslPki
let dataDir: string
let server: TestCertmq | undefined
let ca: OpenSslCa
let kept: OpenSslCert
let revoked: OpenSslCert
let later: OpenSslCert

beforeAll(async () => {
  pki = await OpenSslPki.create()
  dataDir = tempDir()
  ca = await pki.ca('backup-root')
  kept = await pki.leaf('backup-kept', ca, { cn: 'kept-1' })
  revoked = await pki.leaf('backup-revoked', ca, { cn: 'revoked-1' })
  later = await pki.leaf('backup-later', ca, { cn: 'later-1' })
})

afterAll(async () => {
  await server?.stop({ keepData: true })
  await pki?.cleanup()
})

async function cli (args: string[]): Promise<CliRun> {
  return await runCertmqCli(args, server?.adminUrl ?? 'http://127.0.0.1:1', server?.token ?? 'unused-token-0123456789')
}

function sha256 (file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

const storeFile = (): string => join(dataDir, 'registry', 'data.mdb')

describe('certmq backup and certmq restore', () => {
  let backupFile: string

  it('saves a backup of the running registry, checked against the server\'s SHA-256, and records who took it', async () => {
    server = await startCertmq({}, { dataDir })
    const registered = await server.api('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })
    expect(registered.status).toBe(201)
    // automatic registration, with a live session: an associated client shown connected
    const device = await connectDevice(server.mqttsPort, server.serverCaPem, { certPem: kept.pem, keyPem: kept.keyPem }, { clientId: 'kept-client' })
    expect(device.code).toBe(0)
    const bad = await connectDevice(server.mqttsPort, server.serverCaPem, { certPem: revoked.pem, keyPem: revoked.keyPem })
    expect(bad.code).toBe(0)
    await endClient(bad.client)
    expect((await server.api('POST', `/api/v1/certificates/${fingerprintOf(revoked.pem)}/revoke`, { confirm: true })).status).toBe(200)
    const shown = await server.api<{ associatedClients: Array<{ connected: boolean }> }>('GET', `/api/v1/certificates/${fingerprintOf(kept.pem)}`)
    expect(shown.body.associatedClients).toEqual([expect.objectContaining({ clientId: 'kept-client', connected: true })])

    backupFile = join(tempDir(), 'registry.mdb')
    const run = await cli(['backup', backupFile])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/backup saved to .+ \(the server's name for it: certmq-backup-\d{8}T\d{6}Z\.mdb\)/)
    // the hint is a command that restores: without --yes restore changes nothing (exit 2)
    expect(run.stdout).toContain(`restore it with: certmq restore ${backupFile} --yes`)
    expect(statSync(backupFile).mode & 0o777).toBe(0o600)
    const digest = sha256(backupFile)
    expect(run.stdout).toContain(digest)
    // the server kept no copy once it was sent
    expect(readdirSync(join(dataDir, 'backup-tmp'))).toEqual([])
    const events = await server.api<{ items: Array<{ actor: string, details: Record<string, unknown> }> }>('GET', '/api/v1/events?type=backup.created')
    expect(events.body.items).toEqual([expect.objectContaining({ actor: 'admin', details: { bytes: statSync(backupFile).size, sha256: digest } })])
    await endClient(device.client)
  })

  it('refuses to overwrite a file without --force, and makes no backup for it', async () => {
    const before = readFileSync(backupFile)
    const run = await cli(['backup', backupFile])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`error VALIDATION_FAILED: ${backupFile} exists`)
    expect(readFileSync(backupFile).equals(before)).toBe(true)
    const events = await server!.api<{ items: unknown[] }>('GET', '/api/v1/events?type=backup.created')
    expect(events.body.items).toHaveLength(1)
  })

  it('does not restore into the data directory of a running certmq', async () => {
    // the running broker writes its store meanwhile (associated clients once a second), so the
    // bytes may change: what a restore would change is which file is the store
    const before = statSync(storeFile()).ino
    const run = await cli(['restore', backupFile, '--data-dir', dataDir, '--yes'])
    expect(run.code).toBe(6)
    expect(run.stderr).toContain('error STORE_UNAVAILABLE')
    expect(run.stderr).toContain('stop certmq')
    expect(statSync(storeFile()).ino).toBe(before)
    expect(readdirSync(dataDir).filter((name) => name.startsWith('registry.replaced-') || name.startsWith('.restore-'))).toEqual([])
  })

  it('restores into a stopped certmq: what was registered after the backup is gone, the rest is back as it was', async () => {
    const current = server!
    expect((await current.api('POST', '/api/v1/certificates', { caId: fingerprintOf(ca.pem), certificatePem: later.pem })).status).toBe(201)
    await current.stop({ keepData: true })
    server = undefined
    const replacedBytes = readFileSync(storeFile())

    const unconfirmed = await cli(['restore', backupFile, '--data-dir', dataDir])
    expect(unconfirmed.code).toBe(2)
    expect(unconfirmed.stderr).toContain('add --yes')
    expect(readFileSync(storeFile()).equals(replacedBytes)).toBe(true)

    const run = await cli(['--json', 'restore', backupFile, '--data-dir', dataDir, '--yes'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout) as { cas: number, certificates: number, replaced: string }
    // the built-in CA and ours; the two devices registered before the backup
    expect(result).toMatchObject({ cas: 2, certificates: 2, registry: join(dataDir, 'registry') })
    expect(readFileSync(join(result.replaced, 'data.mdb')).equals(replacedBytes)).toBe(true)

    server = await startCertmq({}, { dataDir })
    const restarted = server
    const list = await restarted.api<{ items: Array<{ id: string, status: string }> }>('GET', '/api/v1/certificates')
    expect(list.body.items.map((c) => [c.id, c.status]).sort()).toEqual([
      [fingerprintOf(kept.pem), 'active'], [fingerprintOf(revoked.pem), 'revoked']
    ].sort())
    // the backup was made while the device was connected; after a restore nobody is
    const shown = await restarted.api<{ associatedClients: Array<{ connected: boolean }> }>('GET', `/api/v1/certificates/${fingerprintOf(kept.pem)}`)
    expect(shown.body.associatedClients).toEqual([expect.objectContaining({ clientId: 'kept-client', connected: false })])
    // the deny list came back with it; the device kept connects again
    expect((await connectDevice(restarted.mqttsPort, restarted.serverCaPem, { certPem: revoked.pem, keyPem: revoked.keyPem })).code).toBe(5)
    const again = await connectDevice(restarted.mqttsPort, restarted.serverCaPem, { certPem: kept.pem, keyPem: kept.keyPem }, { clientId: 'kept-client' })
    expect(again.code).toBe(0)
    await endClient(again.client)
    await restarted.stop({ keepData: true })
    server = undefined
  })

  it('takes the data directory from a config whose admin.tokens name variables this shell does not have', async () => {
    // the service's environment holds the tokens; the operator's shell, where restore runs, not
    const dir = tempDir()
    const config = join(dir, 'broker.config.json')
    writeFileSync(config, JSON.stringify({
      dataDir: join(dir, 'data'),
      admin: { tokens: [{ name: 'grafana', role: 'viewer', tokenEnv: 'CERTMQ_RESTORE_TEST_UNSET_TOKEN' }] },
      mqtts: { certFile: join(dir, 'absent.pem'), keyFile: join(dir, 'absent.key') }
    }))
    const run = await cli(['restore', backupFile, '--config', config])
    expect(run.stderr).toContain(`error CONFIRMATION_REQUIRED: this replaces the registry of the data directory ${join(dir, 'data')}`)
    expect(run.code).toBe(2)
  })

  it('refuses a file that is not a whole certmq backup, and leaves the store as it was', async () => {
    const dir = tempDir()
    const notLmdb = join(dir, 'ca.pem')
    writeFileSync(notLmdb, ca.pem)
    const truncated = join(dir, 'truncated.mdb')
    writeFileSync(truncated, readFileSync(backupFile).subarray(0, 8192))
    const foreign = join(dir, 'foreign')
    const other = open({ path: foreign, noSubdir: false })
    await other.put('hello', 'world')
    await other.close()
    const before = sha256(storeFile())
    for (const [file, why] of [
      [notLmdb, 'does not start as an LMDB file does'],
      [truncated, 'the file is damaged'],
      [join(foreign, 'data.mdb'), 'not a certmq store']
    ] as const) {
      const run = await cli(['restore', file, '--data-dir', dataDir, '--yes'])
      expect(run.stderr, file).toContain('error BACKUP_INVALID')
      expect(run.stderr, file).toContain(why)
      expect(run.code, file).toBe(5)
      expect(sha256(storeFile())).toBe(before)
    }
    const missing = await cli(['restore', join(dir, 'nothing.mdb'), '--data-dir', dataDir, '--yes'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('no such file')
    // no staging copy left beside the store
    expect(readdirSync(dataDir).filter((name) => name.startsWith('.restore-'))).toEqual([])
  })
})
