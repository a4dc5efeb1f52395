/**
 * `certmq backup <file>`: an online backup of the registry, made by the running broker and saved
 * here (POST /api/v1/backup). `certmq restore <file>`: puts one back into a data directory while
 * certmq is stopped. docs/operations.md, "Backup and restore".
 */
import { createHash, randomBytes } from 'node:crypto'
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Command } from 'commander'
import { CertmqError } from '../../errors.js'
import type { BackupDownload } from '../api-client.js'
import type { CommandContext } from '../index.js'
import { EXIT_BACKUP_INVALID } from '../exit-codes.js'
import { renderFields } from '../output.js'

interface BackupOptions { force?: boolean }
interface RestoreOptions { config?: string, dataDir?: string, yes?: boolean }

export function registerBackupCommands (program: Command, ctx: CommandContext): void {
  program.command('backup')
    .description('save a backup of the registry (CAs, certificates, deny list, events, token hashes) made while certmq runs')
    .argument('<file>', 'where to write it (- for standard output)')
    .option('--force', 'replace the file if it exists')
    .action(async (file: string, opts: BackupOptions) => {
      const client = ctx.client()
      if (file === '-') {
        const download = await client.downloadBackup()
        // already written when the check can be made: the exit code is what tells a pipeline
        mustMatch(await toStdout(download.chunks), download.sha256)
        return
      }
      const path = resolve(file)
      const { fileName, ...saved } = await toFile(path, opts.force === true, async () => await client.downloadBackup())
      const result = { file: path, ...saved }
      ctx.output().result(result, (body) => `backup saved to ${body.file} (the server's name for it: ${fileName})\n${renderFields([
        ['File', body.file], ['Bytes', String(body.bytes)], ['SHA-256', body.sha256]
      ])}restore it with: certmq restore ${file} --yes  (certmq stopped)\n`)
    })

  program.command('restore')
    .description('replace the registry of a stopped certmq by a backup; the store it replaces is kept beside it')
    .argument('<file>', 'a file written by certmq backup')
    .option('--config <path>', 'config file whose dataDir to restore into (default ./broker.config.json; CERTMQ_DATA_DIR applies)')
    .option('--data-dir <dir>', 'the data directory to restore into, instead of the config\'s')
    .option('--yes', 'do it: without it nothing is changed')
    .action(async (file: string, opts: RestoreOptions) => {
      const dataDir = resolve(opts.dataDir ?? await configuredDataDir(opts.config))
      if (opts.yes !== true) {
        throw new CertmqError('CONFIRMATION_REQUIRED',
          `this replaces the registry of the data directory ${dataDir} (kept aside, not deleted) by ${file}: add --yes to go on`, { dataDir })
      }
      // the store's modules (lmdb) only for this command
      const { restoreRegistry } = await import('../../store/embedded/restore.js')
      const result = await restoreRegistry(resolve(file), dataDir, new Date())
      ctx.output().result(result, (body) => `restored ${file} into ${body.registry}\n${renderFields([
        ['CAs', String(body.cas)],
        ['Certificates', String(body.certificates)],
        ['Events', String(body.events)],
        ['Replaced store', body.replaced ?? '- (there was none)']
      ])}start certmq to use it\n`)
    })
}

async function configuredDataDir (configPath: string | undefined): Promise<string> {
  const { loadDataDir } = await import('../../config/load.js')
  return loadDataDir(configPath === undefined || configPath === '' ? {} : { configPath })
}

interface Saved { bytes: number, sha256: string }

/** The size and SHA-256 of the bytes passed through it, counted as they pass. */
class Tally {
  bytes = 0
  private readonly hash = createHash('sha256')

  add (chunk: Uint8Array): void {
    this.hash.update(chunk)
    this.bytes += chunk.byteLength
  }

  saved (): Saved {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') }
  }
}

async function toStdout (chunks: AsyncIterable<Uint8Array>): Promise<Saved> {
  const tally = new Tally()
  // A reader that goes away (EPIPE) ends the process at once with the exit code set by then
  // (exitQuietlyWhenReaderCloses: 0, as for `certmq cert list | head`); for a backup it means the
  // pipeline kept part of the file, which must not read as success. Runs before that listener.
  const readerGone = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') return
    process.stderr.write(`error BACKUP_INVALID: the reader of standard output went away after ${tally.bytes} bytes: what it received is not a whole backup\n`)
    process.exitCode = EXIT_BACKUP_INVALID
  }
  process.stdout.prependListener('error', readerGone)
  try {
    for await (const chunk of chunks) {
      tally.add(chunk)
      if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve))
    }
    // the last chunk flushed: an EPIPE after it would still mean a cut file
    await new Promise<void>((resolve) => { process.stdout.write('', () => { resolve() }) })
  } finally {
    process.stdout.off('error', readerGone)
  }
  return tally.saved()
}

/**
 * Written beside `file` under another name, flushed to disk, and renamed into place only once
 * whole and matching the server's SHA-256: an interrupted or damaged download never leaves a file
 * that looks like a backup, nor replaces one given with --force. `download` is called once the
 * file is known to be writable, so a refused file costs the server no backup.
 */
async function toFile (file: string, force: boolean, download: () => Promise<BackupDownload>): Promise<Saved & { fileName: string }> {
  // a name of its own, opened only if nothing has it: never through a link someone placed there
  const partial = join(dirname(file), `.${basename(file)}.partial-${process.pid}-${randomBytes(6).toString('hex')}`)
  let placeholder = false
  let handle: FileHandle | undefined
  try {
    // without --force an existing file is refused at once, and the name is held while downloading
    if (!force) {
      await (await open(file, 'wx', 0o600)).close()
      placeholder = true
    }
    handle = await open(partial, 'wx', 0o600)
  } catch (err) {
    if (placeholder) await rm(file, { force: true }).catch(() => {})
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new CertmqError('VALIDATION_FAILED', `${file} exists: give another file, or --force to replace it`, { path: file })
    throw new CertmqError('VALIDATION_FAILED', `cannot write ${file}: ${code ?? (err as Error).message}`, { path: file }, { cause: err })
  }
  let kept = false
  try {
    const { chunks, sha256: expected, fileName } = await download()
    const tally = new Tally()
    for await (const chunk of chunks) {
      tally.add(chunk)
      await handle.write(chunk)
    }
    await handle.sync()
    const saved = tally.saved()
    mustMatch(saved, expected)
    await rename(partial, file)
    kept = true
    return { ...saved, fileName }
  } finally {
    await handle.close().catch(() => {})
    if (!kept) {
      await rm(partial, { force: true }).catch(() => {})
      if (placeholder) await rm(file, { force: true }).catch(() => {})
    }
  }
}

function mustMatch (saved: Saved, expected: string): void {
  if (expected === '' || saved.sha256 === expected) return
  throw new CertmqError('BACKUP_INVALID',
    `the backup received does not match the server's SHA-256 (${saved.bytes} bytes, ${saved.sha256} against ${expected}): try again`,
    { received: saved.sha256, expected })
}
