/**
 * Run by `certmq restore` as a process of its own (restore.ts), on a copy of the backup: lmdb
 * crashes the process it runs in (SIGSEGV) on a file that is damaged past its header, and the
 * restore must report that, not die of it. Opens the copy as the store would, reads every CA and
 * certificate record, marks every associated client disconnected (the backup was made while
 * devices were connected; none of them is connected to a store that is being restored) and
 * prints one line of JSON: the counts, or `{ "error": message }` with exit code 1.
 */
import { open, type Database } from 'lmdb'
import { openDatabases, releaseAllClients } from './databases.js'

/** Sub-databases every certmq store has had since its first version. */
const REQUIRED = ['cas', 'certs', 'meta']

export interface BackupCheck {
  cas: number
  certificates: number
  events: number
  clientsReleased: number
}

async function check (dir: string): Promise<BackupCheck> {
  // a named sub-database is a key of the main one: look before openDatabases creates any that are missing
  const root = open({ path: dir, noSubdir: false, maxDbs: 16 })
  const names = new Set<unknown>(root.getKeys())
  await root.close()
  const missing = REQUIRED.filter((name) => !names.has(name))
  if (missing.length > 0) throw new Error(`an LMDB file without certmq's ${missing.join(', ')} data: not a certmq store`)
  const dbs = openDatabases(dir)
  try {
    const cas = countRecords(dbs.cas, 'CA')
    const certificates = countRecords(dbs.certs, 'certificate')
    const events = dbs.events.getKeysCount()
    const clientsReleased = dbs.root.transactionSync(() => releaseAllClients(dbs.clients))
    return { cas, certificates, events, clientsReleased }
  } finally {
    await dbs.root.close()
  }
}

/** Reads every record of `db` (each decodes, and sits under its own id); how many there are. */
function countRecords (db: Database<{ id: string }, string>, what: string): number {
  let count = 0
  for (const { key, value } of db.getRange()) {
    if (typeof value?.id !== 'string' || value.id !== key) throw new Error(`${what} record ${String(key)} cannot be read`)
    count++
  }
  return count
}

const dir = process.argv.at(-1) ?? ''
try {
  process.stdout.write(`${JSON.stringify(await check(dir))}\n`)
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`)
  process.exitCode = 1
}
