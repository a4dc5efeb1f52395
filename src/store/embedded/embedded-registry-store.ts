/**
 * RegistryStore on an embedded LMDB environment (STYLE §6): durable, crash-safe, no server.
 *
 * Every acknowledged write runs in one synchronous LMDB transaction (`transactionSync`, default
 * flags): the checks read the current state inside the transaction, and the call returns only
 * after the commit is flushed, so an acknowledged write survives kill -9. JS runs one transaction
 * at a time, so two concurrent inserts of one id give one success and one CERT_DUPLICATE.
 * The one exception is the associated-client audit trail, committed in the background by lmdb's
 * asynchronous `transaction()` (see flushClientWrites); a `transactionSync` that comes while such
 * a batch is queued commits first, and the batch then sees its result.
 *
 * This process must be the only writer of the directory: the in-memory projection (see
 * certificate-projection.ts) is built at open and kept in step with the commits made here.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CertmqError } from '../../errors.js'
import { acquireProcessLock } from './process-lock.js'
import type { AssociatedClient, CertificateRecord, CertStatus } from '../../domain/certificate.js'
import type { CaCrlState, CaRecord, CaSettings, CaStatus, CrlImportError } from '../../domain/ca.js'
import type { CertificatePage, CertificateQuery } from '../../domain/query.js'
import type { CertificateCounts, DeletedCa, RegistryStore, StoredCrl } from '../ports.js'
import { applyClientChanges, type ClientChange } from './associated-clients.js'
import { CertificateProjection } from './certificate-projection.js'
import { isLmdbCommitFailure } from './commit-failures.js'
import { BACKUP_FILE, openDatabases, releaseAllClients, type Databases, type EventTable } from './databases.js'
import { caErrors, certErrors, crlErrors, shortId } from './registry-errors.js'
import { reportQuietly } from './report-quietly.js'

export interface EmbeddedRegistryStoreOptions {
  /** Directory of the LMDB environment; created (mode 0700) when missing. */
  path: string
  /**
   * A transaction of associated-client changes failed: the connects and disconnects of up to
   * `certificates` certificates were not recorded (lmdb keeps the puts made before a callback
   * throws; a failed commit keeps none). Nobody waits on them, so this is the only sign.
   */
  onClientFlushError?: (err: CertmqError, certificates: number) => void
}

/**
 * How many decoded certificate records are kept for the CONNECT path. lmdb stores each record with
 * its msgpack structure inline, so decoding one costs ~13 µs (more on a busy core): a device that
 * reconnects, or a fleet coming back after a restart of the network, is decided from memory.
 */
const RECORD_CACHE_SIZE = 4096

/** How long associated-client changes wait to be committed together. */
const CLIENT_FLUSH_MS = 1000

/**
 * How many certificates' client lists one transaction rewrites. Its callback runs on the event
 * loop (about 10 µs a certificate, more on a busy core): one transaction for the 1000 devices of a
 * reconnect stalled every CONNECT and publish behind it for 8–18 ms.
 */
const CLIENT_FLUSH_CHUNK = 100

export class EmbeddedRegistryStore implements RegistryStore {
  readonly path: string
  private dbs: Databases | undefined
  private closing: Promise<void> | undefined
  private readonly projection = new CertificateProjection()
  /** Decoded records by id, oldest first; always equal to the committed state (changed only after commits). */
  private readonly records = new Map<string, CertificateRecord>()
  private readonly clientChanges = new Map<string, ClientChange[]>()
  private clientFlushTimer: NodeJS.Timeout | undefined
  /** The associated-client commit in flight, if any; settles (never rejects) once it is done. */
  private clientFlush: Promise<void> | undefined
  /**
   * Backups being copied (settled, never rejected): LMDB copies on a thread of libuv's pool with
   * the environment's pointer, and an environment closed under it crashes the process.
   */
  private readonly copies = new Set<Promise<void>>()
  private releaseLock: () => void = () => {}
  /** The process before this one did not close the store (its lock was left behind). */
  private openedAfterCrash = false

  private readonly onClientFlushError: EmbeddedRegistryStoreOptions['onClientFlushError']

  constructor (options: EmbeddedRegistryStoreOptions) {
    this.path = options.path
    this.onClientFlushError = options.onClientFlushError
  }

  async open (): Promise<void> {
    if (this.dbs !== undefined) return
    await this.closing
    try {
      await mkdir(this.path, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw this.failure('create its directory', err)
    }
    const { release, tookOver } = acquireProcessLock(this.path)
    let dbs: Databases | undefined
    try {
      dbs = openDatabases(this.path)
      // one pass, no array of every record (at 100k certificates that array alone is ~300 MB of heap)
      const certs = dbs.certs
      this.projection.rebuild((function * () {
        for (const { value } of certs.getRange()) yield value
      })())
    } catch (err) {
      this.projection.clear()
      await dbs?.root.close().catch(() => {})
      release()
      throw this.failure('open', err)
    }
    this.dbs = dbs
    this.releaseLock = release
    this.openedAfterCrash = tookOver
  }

  async close (): Promise<void> {
    const dbs = this.dbs
    if (dbs === undefined) {
      await this.closing
      return
    }
    const flushed = this.flushClientWrites()
    this.dbs = undefined
    this.projection.clear()
    this.records.clear()
    const release = this.releaseLock
    // a backup under way finishes first (its copy is whole; the store is already closed to new ones)
    const copied = Promise.all(this.copies)
    this.closing = Promise.all([flushed, copied]).then(async () => { await dbs.root.close() })
      .catch((err: unknown) => { throw this.failure('close', err) })
      .finally(release)
    await this.closing
  }

  // ---- CAs -------------------------------------------------------------------------------

  async insertCa (record: CaRecord, maxCas: number): Promise<CaRecord> {
    return this.write(`insert CA ${shortId(record.id)}`, ({ cas }) => {
      if (cas.doesExist(record.id)) throw caErrors.duplicate(record.id)
      // the built-in CA is not counted against maxCas, so it is never refused for it either
      if (!record.builtin) {
        let registered = 0
        for (const { value } of cas.getRange()) if (!value.builtin) registered++
        if (registered >= maxCas) throw caErrors.limitReached(record.id, maxCas, registered)
      }
      const saved = { ...record }
      cas.putSync(record.id, saved)
      return saved
    })
  }

  async getCa (id: string): Promise<CaRecord | undefined> {
    return this.read(`read CA ${shortId(id)}`, ({ cas }) => withCaDefaults(cas.get(id)))
  }

  async listCas (): Promise<CaRecord[]> {
    const all = this.read('list CAs', ({ cas }) => [...cas.getRange()].map(({ value }) => withCaDefaults(value)))
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  async transitionCa (id: string, allowedFrom: readonly CaStatus[], to: CaStatus, now: string): Promise<CaRecord> {
    return this.write(`change the status of CA ${shortId(id)}`, ({ cas }) => {
      const current = cas.get(id)
      if (current === undefined) throw caErrors.notFound(id)
      if (!allowedFrom.includes(current.status)) throw caErrors.statusConflict(id, current.status, to, allowedFrom)
      const updated: CaRecord = { ...withCaDefaults(current), status: to, updatedAt: now }
      cas.putSync(id, updated)
      return updated
    })
  }

  async setCaHosts (id: string, hosts: string[], now: string): Promise<CaRecord> {
    return this.write(`bind CA ${shortId(id)} to hosts`, ({ cas }) => {
      const current = withCaDefaults(cas.get(id))
      if (current === undefined) throw caErrors.notFound(id)
      const updated: CaRecord = { ...current, hosts: [...hosts], updatedAt: now }
      cas.putSync(id, updated)
      return updated
    })
  }

  async updateCaSettings (id: string, settings: CaSettings, now: string): Promise<CaRecord> {
    return this.write(`update the settings of CA ${shortId(id)}`, ({ cas }) => {
      const current = withCaDefaults(cas.get(id))
      if (current === undefined) throw caErrors.notFound(id)
      const updated: CaRecord = {
        ...current,
        ...(settings.registrationMode === undefined ? {} : { registrationMode: settings.registrationMode }),
        ...(settings.autoActivate === undefined ? {} : { autoActivate: settings.autoActivate }),
        ...(settings.description === undefined ? {} : { description: settings.description }),
        updatedAt: now
      }
      cas.putSync(id, updated)
      return updated
    })
  }

  // ---- CRLs ------------------------------------------------------------------------------

  async replaceCrl (caId: string, crl: StoredCrl, state: CaCrlState): Promise<CaRecord> {
    return this.write(`import a CRL for CA ${shortId(caId)}`, ({ cas, crls }) => {
      const current = withCaDefaults(cas.get(caId))
      if (current === undefined) throw caErrors.notFound(caId)
      const inForce = current.crl?.thisUpdate ?? null
      if (inForce !== null && state.thisUpdate !== null && state.thisUpdate < inForce) {
        throw crlErrors.older(caId, state.thisUpdate, inForce)
      }
      crls.putSync(caId, { der: crl.der, serials: [...crl.serials] })
      const { lastError: _dropped, ...clean } = state
      const updated: CaRecord = { ...current, crl: clean, updatedAt: state.importedAt ?? current.updatedAt }
      cas.putSync(caId, updated)
      return updated
    })
  }

  async recordCrlError (caId: string, error: CrlImportError): Promise<CaRecord> {
    return this.write(`record a refused CRL for CA ${shortId(caId)}`, ({ cas }) => {
      const current = withCaDefaults(cas.get(caId))
      if (current === undefined) throw caErrors.notFound(caId)
      const crl: CaCrlState = { ...(current.crl ?? { thisUpdate: null, nextUpdate: null, revokedCount: 0, importedAt: null }), lastError: { ...error } }
      const updated: CaRecord = { ...current, crl }
      cas.putSync(caId, updated)
      return updated
    })
  }

  async getCrl (caId: string): Promise<StoredCrl | undefined> {
    return this.read(`read the CRL of CA ${shortId(caId)}`, ({ crls }) => {
      const crl = crls.get(caId)
      return crl === undefined ? undefined : { der: Buffer.from(crl.der), serials: crl.serials }
    })
  }

  async deleteCa (id: string): Promise<DeletedCa> {
    const { ca, removed } = this.write(`delete CA ${shortId(id)}`, ({ cas, certs, clients, crls }) => {
      const ca = withCaDefaults(cas.get(id))
      if (ca === undefined) throw caErrors.notFound(id)
      if (ca.builtin) throw caErrors.builtin(id)
      const under: CertificateRecord[] = []
      for (const certId of this.projection.idsOfCa(id)) {
        const cert = certs.get(certId)
        if (cert !== undefined) under.push(cert)
      }
      const active = under.filter((cert) => cert.status === 'active').length
      if (active > 0) throw caErrors.hasActiveCertificates(id, active)
      // revoked ones keep their deny-list entry: the deny list is never pruned here
      for (const cert of under) {
        certs.removeSync(cert.id)
        clients.removeSync(cert.id)
      }
      cas.removeSync(id)
      crls.removeSync(id)
      return { ca, removed: under }
    })
    this.committedRemoval(removed.map((cert) => cert.id))
    return { ca, certificates: removed }
  }

  // ---- certificates ----------------------------------------------------------------------

  async insertCertificate (record: CertificateRecord): Promise<CertificateRecord> {
    const saved = this.write(`insert certificate ${shortId(record.id)}`, ({ cas, certs, denied }) => {
      const deny = denied.get(record.id)
      if (deny !== undefined) throw certErrors.revoked(record.id, deny.revokedAt)
      const existing = certs.get(record.id)
      if (existing !== undefined) throw certErrors.duplicate(record.id, existing.status)
      if (!cas.doesExist(record.caId)) throw certErrors.caNotFound(record.id, record.caId)
      if (record.clientId !== null) {
        const holderId = this.projection.idOfClientId(record.clientId)
        const holder = holderId === undefined ? undefined : certs.get(holderId)
        if (holder !== undefined && holder.clientId === record.clientId) {
          throw certErrors.clientIdTaken(record.id, record.clientId, holder.id)
        }
      }
      const saved = { ...record }
      certs.putSync(record.id, saved)
      // keeps "revoked implies denied" true even for a record inserted as revoked
      if (record.status === 'revoked') denied.putSync(record.id, { revokedAt: record.updatedAt })
      return saved
    })
    this.committed(saved)
    return saved
  }

  async getCertificate (id: string): Promise<CertificateRecord | undefined> {
    return this.getCertificateNow(id)
  }

  async certificateIdOfClientId (clientId: string): Promise<string | undefined> {
    return this.certificateIdOfClientIdNow(clientId)
  }

  /** From the projection, which changes only after commits, like the record cache. */
  certificateIdOfClientIdNow (clientId: string): string | undefined {
    // on every CONNECT: the message is made only for a closed store
    if (this.dbs === undefined) this.handles(`find the certificate of Client ID ${JSON.stringify(clientId)}`)
    return this.projection.idOfClientId(clientId)
  }

  /** The record is shared with later readers: callers must not change it (none does; they copy). */
  getCertificateNow (id: string): CertificateRecord | undefined {
    // close() empties the cache, so a closed store still throws STORE_UNAVAILABLE from read()
    const cached = this.records.get(id)
    if (cached !== undefined) return cached
    const record = this.read(`read certificate ${shortId(id)}`, ({ certs }) => certs.get(id))
    if (record !== undefined) {
      const oldest = this.records.keys().next()
      if (this.records.size >= RECORD_CACHE_SIZE && oldest.done !== true) this.records.delete(oldest.value)
      this.records.set(id, record)
    }
    return record
  }

  /**
   * Filters and sorts the in-memory projection, then reads only the page's records. Throws
   * VALIDATION_FAILED for a bad limit, cursor or date.
   */
  async listCertificates (query: CertificateQuery): Promise<CertificatePage<CertificateRecord>> {
    return this.read('list certificates', ({ certs }) => {
      const page = this.projection.search(query)
      const items: CertificateRecord[] = []
      for (const id of page.items) {
        const record = certs.get(id)
        if (record !== undefined) items.push(record)
      }
      return { items, total: page.total, nextCursor: page.nextCursor }
    })
  }

  async transitionCertificate (id: string, allowedFrom: readonly CertStatus[], to: CertStatus, now: string):
    Promise<{ record: CertificateRecord, from: CertStatus }> {
    const { current, updated } = this.write(`change the status of certificate ${shortId(id)}`, ({ certs, denied }) => {
      const current = certs.get(id)
      if (current === undefined) throw certErrors.notFound(id)
      if (!allowedFrom.includes(current.status)) throw certErrors.statusConflict(id, current.status, to, allowedFrom)
      const updated: CertificateRecord = { ...current, status: to, updatedAt: now }
      certs.putSync(id, updated)
      if (to === 'revoked' && !denied.doesExist(id)) denied.putSync(id, { revokedAt: now })
      return { current, updated }
    })
    this.committed(updated)
    return { record: updated, from: current.status }
  }

  async deleteCertificate (id: string, allowedFrom: readonly CertStatus[]): Promise<CertificateRecord> {
    const removed = this.write(`delete certificate ${shortId(id)}`, ({ certs, clients }) => {
      const current = certs.get(id)
      if (current === undefined) throw certErrors.notFound(id)
      if (!allowedFrom.includes(current.status)) throw certErrors.deleteConflict(id, current.status, allowedFrom)
      // the deny-list entry of a revoked certificate stays: revocation is irreversible
      certs.removeSync(id)
      clients.removeSync(id)
      return current
    })
    this.committedRemoval([removed.id])
    return removed
  }

  async countCertificates (now: string, withinDays: readonly number[]): Promise<CertificateCounts> {
    this.handles('count certificates')
    return this.projection.counts(Date.parse(now), withinDays)
  }

  async isDenied (id: string): Promise<boolean> {
    return this.read(`read the deny list for ${shortId(id)}`, ({ denied }) => denied.doesExist(id))
  }

  // ---- associated clients ----------------------------------------------------------------

  // Associated clients change on every CONNECT and disconnect. They are an audit trail, not
  // acknowledged data, so changes wait in memory, grouped by certificate, and are committed
  // together every CLIENT_FLUSH_MS: one transaction for all of them, and one read and one write
  // per certificate however often it connected meanwhile. Reads flush first.

  async recordClientConnected (id: string, client: AssociatedClient): Promise<void> {
    this.queueClientChange(id, { client })
  }

  async recordClientDisconnected (id: string, clientId: string, node: string, at: string): Promise<void> {
    this.queueClientChange(id, { disconnected: { clientId, node, at } })
  }

  async getAssociatedClients (id: string): Promise<AssociatedClient[]> {
    await this.flushClientWrites()
    return this.read(`read the clients of certificate ${shortId(id)}`, ({ clients }) => clients.get(id) ?? [])
  }

  /**
   * Only after a crash: a clean stop records every disconnect before the store closes (the broker
   * closes its clients first), and reading every list at each start cost 150 ms at 100,000 of
   * them. This process is the only writer (process-lock.ts), so every entry still shown connected
   * then is stale, whatever its node.
   */
  async releaseStaleClients (node: string): Promise<number> {
    if (!this.openedAfterCrash) return 0
    this.openedAfterCrash = false
    await this.flushClientWrites()
    return this.write(`mark the clients left connected before ${node} started disconnected`, ({ clients }) => releaseAllClients(clients))
  }

  private queueClientChange (id: string, change: ClientChange): void {
    this.handles('record an associated client')
    const queued = this.clientChanges.get(id)
    if (queued === undefined) this.clientChanges.set(id, [change])
    else queued.push(change)
    this.clientFlushTimer ??= setTimeout(() => { void this.flushClientWrites() }, CLIENT_FLUSH_MS).unref()
  }

  /**
   * Commits the queued changes in asynchronous LMDB transactions of CLIENT_FLUSH_CHUNK
   * certificates each: a callback runs on this thread when its write transaction starts, the
   * commit on LMDB's write thread, and the event loop runs between them (a synchronous commit of
   * 200 changes took 2–10 ms). Batches commit in the order they were taken, so a disconnect never
   * lands before its connect. Settles once committed, never rejects: this is an audit trail, and
   * a transaction that fails keeps what it wrote before the failure and is reported to
   * onClientFlushError; the others still commit.
   */
  private async flushClientWrites (): Promise<void> {
    if (this.clientFlushTimer !== undefined) clearTimeout(this.clientFlushTimer)
    this.clientFlushTimer = undefined
    const dbs = this.dbs
    if (this.clientChanges.size === 0 || dbs === undefined) {
      await this.clientFlush
      return
    }
    const batch = [...this.clientChanges]
    this.clientChanges.clear()
    const { root, certs, clients } = dbs
    const previous = this.clientFlush
    const flush = (async () => {
      await previous
      for (let from = 0; from < batch.length; from += CLIENT_FLUSH_CHUNK) {
        const chunk = batch.slice(from, from + CLIENT_FLUSH_CHUNK)
        // in an async function a synchronous throw from lmdb becomes a rejection, caught here
        await (async () => {
          await root.transaction(() => {
            for (const [id, changes] of chunk) {
              const stored = clients.get(id) ?? []
              const next = applyClientChanges(stored, changes, certs.doesExist(id))
              if (next !== stored) clients.putSync(id, next)
            }
          })
        })().catch((err: unknown) => {
          // a failed commit (a full disk) gives its reason in a second promise, err.commitError:
          // unhandled, its rejection would end the process
          if (isLmdbCommitFailure(err)) err.commitError.catch(() => {})
          reportQuietly(this.onClientFlushError, this.failure(`record the clients of ${chunk.length} certificates`, err), chunk.length)
        })
      }
    })()
    this.clientFlush = flush
    await flush
  }

  // ---- backup ----------------------------------------------------------------------------

  /**
   * LMDB's own copy (mdb_env_copy2, compacting: free pages are left out) inside one read
   * transaction, on a thread of libuv's pool: writers go on meanwhile, and the copy is the state
   * of the moment it began. The file is an LMDB environment (`data.mdb`) that opens as this store.
   */
  async backup (dir: string): Promise<{ file: string }> {
    await this.flushClientWrites()
    const { root } = this.handles('back up')
    let copying: Promise<void> | undefined
    try {
      const copy = root.backup(dir, true)
      // close() waits for it: added in the same turn as the copy starts
      copying = copy.then(() => {}, () => {})
      this.copies.add(copying)
      await copy
    } catch (err) {
      throw this.failure(`back up into ${dir}`, err)
    } finally {
      if (copying !== undefined) this.copies.delete(copying)
    }
    return { file: join(dir, BACKUP_FILE) }
  }

  // ---- meta ------------------------------------------------------------------------------

  async getMeta (key: string): Promise<string | undefined> {
    return this.read(`read meta ${key}`, ({ meta }) => meta.get(key))
  }

  async setMeta (key: string, value: string): Promise<void> {
    this.write(`write meta ${key}`, ({ meta }) => { meta.putSync(key, value) })
  }

  async deleteMeta (keys: readonly string[]): Promise<void> {
    this.write(`delete meta ${keys.join(', ')}`, ({ meta }) => { for (const key of keys) meta.removeSync(key) })
  }

  /**
   * The `events` sub-database of this environment, for EmbeddedEventLog (one environment, one
   * writer process). Throws STORE_UNAVAILABLE while the store is closed.
   */
  eventTable (): EventTable {
    const { root, events, eventTargets } = this.handles('use the event log')
    return { root, events, eventTargets }
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * After a commit that wrote `record`: the projection takes it and the record cache forgets the
   * old one. Every certificate write goes through here or committedRemoval, so neither drifts
   * from LMDB.
   */
  private committed (record: CertificateRecord): void {
    this.projection.put(record)
    this.records.delete(record.id)
  }

  /** After a commit that removed these certificates. */
  private committedRemoval (ids: readonly string[]): void {
    this.projection.removeAll(ids)
    for (const id of ids) this.records.delete(id)
  }

  private handles (operation: string): Databases {
    if (this.dbs === undefined) {
      throw new CertmqError('STORE_UNAVAILABLE', `embedded store at ${this.path}: could not ${operation}: the store is not open`,
        { path: this.path, operation })
    }
    return this.dbs
  }

  private read<T> (operation: string, body: (dbs: Databases) => T): T {
    const dbs = this.handles(operation)
    try {
      return body(dbs)
    } catch (err) {
      throw this.failure(operation, err)
    }
  }

  /** Runs `body` in one write transaction; a throw aborts it, so a domain error leaves nothing behind. */
  private write<T> (operation: string, body: (dbs: Databases) => T): T {
    const dbs = this.handles(operation)
    try {
      return dbs.root.transactionSync(() => body(dbs))
    } catch (err) {
      throw this.failure(operation, err)
    }
  }

  /** Domain errors pass through; anything from lmdb or fs becomes STORE_UNAVAILABLE with its cause. */
  private failure (operation: string, err: unknown): CertmqError {
    if (err instanceof CertmqError) return err
    return new CertmqError('STORE_UNAVAILABLE', `embedded store at ${this.path}: could not ${operation}`,
      { path: this.path, operation }, { cause: err })
  }
}

/** Records written before a field existed read as if it had its default (CAs before host binding). */
function withCaDefaults<T extends CaRecord | undefined> (ca: T): T {
  if (ca === undefined || Array.isArray(ca.hosts)) return ca
  return { ...ca, hosts: [] }
}
