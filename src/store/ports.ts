/**
 * Storage ports. Interfaces only: the services and the CONNECT path depend on these, and
 * server.ts alone picks an implementation. Every method does its own atomic checks; a `get…`
 * returns `undefined` for "absent"; a backend failure throws CertmqError STORE_UNAVAILABLE.
 */
import type { AssociatedClient, CertificateRecord, CertStatus } from '../domain/certificate.js'
import type { CaCrlState, CaRecord, CaSettings, CaStatus, CrlImportError } from '../domain/ca.js'
import type { CertificatePage, CertificateQuery } from '../domain/query.js'
import type { AuditEvent, EventPage, EventQuery, NewEvent } from '../domain/event.js'

export interface RegistryStore {
  /** Opens the backend and builds in-memory indexes. */
  open (): Promise<void>
  /** Flushes and closes. Idempotent. */
  close (): Promise<void>

  // ---- CAs -------------------------------------------------------------------------------
  /**
   * Inserts a CA. Throws CA_DUPLICATE when the id exists, CA_LIMIT_REACHED when `maxCas`
   * CAs (builtin excluded) are already registered. Resolves once durable.
   */
  insertCa (record: CaRecord, maxCas: number): Promise<CaRecord>
  getCa (id: string): Promise<CaRecord | undefined>
  /** All CAs, oldest first. */
  listCas (): Promise<CaRecord[]>
  /**
   * Compare-and-set of a CA's status. Throws CA_NOT_FOUND, or CA_STATUS_CONFLICT when the
   * current status is not in `allowedFrom`. Returns the updated record.
   */
  transitionCa (id: string, allowedFrom: readonly CaStatus[], to: CaStatus, now: string): Promise<CaRecord>
  /**
   * Deletes a CA. Throws CA_NOT_FOUND, CA_BUILTIN, or CA_HAS_ACTIVE_CERTIFICATES when any
   * certificate under it is active. Certificates under it that are not active are deleted with it
   * in the same write (revoked ones stay on the deny list) and returned as they were, so the
   * caller can record each deletion.
   */
  deleteCa (id: string): Promise<DeletedCa>
  /** Replaces the listener hostnames (TLS SNI) a CA is bound to and stamps updatedAt. Throws CA_NOT_FOUND. */
  setCaHosts (id: string, hosts: string[], now: string): Promise<CaRecord>
  /** Changes the given settings of a CA and stamps updatedAt; the others stay. Throws CA_NOT_FOUND. */
  updateCaSettings (id: string, settings: CaSettings, now: string): Promise<CaRecord>

  // ---- CRLs (PRODUCT §2) -----------------------------------------------------------------
  /**
   * Puts `crl` in force for CA `caId` in one atomic write: its revoked serials and bytes, and the
   * CA record's `crl` state (which has no lastError). Throws CA_NOT_FOUND, or CRL_STALE when the
   * CRL in force has a later thisUpdate. Resolves once durable.
   */
  replaceCrl (caId: string, crl: StoredCrl, state: CaCrlState): Promise<CaRecord>
  /** Records a refused import as the CA's `crl.lastError`; the CRL in force stays. Throws CA_NOT_FOUND. */
  recordCrlError (caId: string, error: CrlImportError): Promise<CaRecord>
  /** The CRL in force for a CA; undefined when none was imported. */
  getCrl (caId: string): Promise<StoredCrl | undefined>

  // ---- certificates ----------------------------------------------------------------------
  /**
   * Inserts a certificate. Throws CERT_DUPLICATE when the id exists, CERT_REVOKED when the
   * fingerprint is on the deny list, CLIENT_ID_TAKEN when another certificate has that Client ID,
   * CA_NOT_FOUND when `caId` is not registered. Resolves once durable.
   */
  insertCertificate (record: CertificateRecord): Promise<CertificateRecord>
  getCertificate (id: string): Promise<CertificateRecord | undefined>
  /**
   * The same read, answered at once: for stores that hold the committed state locally (an
   * embedded database, memory). The CONNECT path uses it to decide a known certificate in the
   * same turn of the event loop that read the CONNECT packet; stores that need a round trip
   * leave it out and the asynchronous read is used. Throws STORE_UNAVAILABLE like the rest.
   */
  getCertificateNow? (id: string): CertificateRecord | undefined
  /**
   * The id of the certificate registered with Client ID `clientId`, if any: a registered Client ID
   * belongs to its certificate, and the CONNECT path refuses it to every other one.
   */
  certificateIdOfClientId (clientId: string): Promise<string | undefined>
  /** The same read, answered at once (see getCertificateNow). */
  certificateIdOfClientIdNow? (clientId: string): string | undefined
  listCertificates (query: CertificateQuery): Promise<CertificatePage<CertificateRecord>>
  /**
   * Compare-and-set of a certificate's status. Throws CERT_NOT_FOUND, or CERT_STATUS_CONFLICT
   * (details.status = current status) when the current status is not in `allowedFrom`.
   * Moving to `revoked` also puts the fingerprint on the deny list.
   */
  transitionCertificate (id: string, allowedFrom: readonly CertStatus[], to: CertStatus, now: string):
    Promise<{ record: CertificateRecord, from: CertStatus }>
  /**
   * Deletes a certificate whose status is in `allowedFrom`. Throws CERT_NOT_FOUND or
   * CERT_STATUS_CONFLICT. A revoked certificate stays on the deny list.
   */
  deleteCertificate (id: string, allowedFrom: readonly CertStatus[]): Promise<CertificateRecord>
  /** Whether the fingerprint is denied (revoked, possibly deleted since). */
  isDenied (id: string): Promise<boolean>
  /**
   * Counts for the metrics scrape, cheap at 100k+ certificates (no full read of the records):
   * certificates by status, and per CA the not-revoked, not yet expired certificates whose
   * notAfter is within each of `withinDays` days of `now` (ISO 8601).
   */
  countCertificates (now: string, withinDays: readonly number[]): Promise<CertificateCounts>

  // ---- associated clients ----------------------------------------------------------------
  /** Records that `client.clientId` connected with certificate `id`. Bounded per certificate. */
  recordClientConnected (id: string, client: AssociatedClient): Promise<void>
  /** Marks the client as disconnected at `at`. */
  recordClientDisconnected (id: string, clientId: string, node: string, at: string): Promise<void>
  /** Newest first. */
  getAssociatedClients (id: string): Promise<AssociatedClient[]>
  /**
   * Marks associated clients still shown connected by a node that stopped without recording its
   * disconnects (kill -9, power loss) as disconnected: called when `node` starts, before it admits
   * anyone. At least `node`'s entries; a store only this process writes (the embedded one) marks
   * every entry, so a node renamed since (a container's new host name) leaves none behind, and
   * does so only when the previous process did not close it. A store shared by several nodes must
   * mark only `node`'s: node names are then unique. Returns how many certificates changed.
   */
  releaseStaleClients (node: string): Promise<number>

  // ---- small metadata (admin token hash, schema version) -----------------------------------
  getMeta (key: string): Promise<string | undefined>
  setMeta (key: string, value: string): Promise<void>
  /** Removes the keys (absent ones are fine), all or none. */
  deleteMeta (keys: readonly string[]): Promise<void>

  // ---- backup ----------------------------------------------------------------------------
  /**
   * Writes a consistent copy of everything the store holds, as of one moment, into the existing
   * empty directory `dir`, while the store stays open for reads and writes; queued associated
   * clients are committed first. Returns the file written.
   */
  backup (dir: string): Promise<{ file: string }>
}

/** A deleted CA and the (non-active) certificates deleted with it, as they were before. */
export interface DeletedCa {
  ca: CaRecord
  certificates: CertificateRecord[]
}

export interface CertificateCounts {
  byStatus: Record<CertStatus, number>
  expiring: Array<{ caId: string; withinDays: number; count: number }>
}

/** A CRL in force: its DER bytes and its revoked serials (uppercase hex, no leading zero bytes). */
export interface StoredCrl {
  der: Buffer
  serials: string[]
}

/** The cluster-wide cap on automatic registrations: at most N in any sliding second. */
export interface RegistrationLimiter {
  /** Takes one slot now if the window has room; false means "over the limit, reject". */
  tryAcquire (): Promise<boolean>
  close (): Promise<void>
}

export type StatusEvent =
  | { kind: 'certificate'; id: string; status: CertStatus | 'deleted' }
  | { kind: 'ca'; id: string; status: CaStatus | 'deleted' }
  | { kind: 'ca-set' }
  /** A CA changed without a status change: its host binding or its CRL. */
  | { kind: 'ca-updated'; id: string }

/** Pushes status changes to every node so each drops affected sessions within a second. */
export interface StatusBus {
  publish (event: StatusEvent): Promise<void>
  subscribe (listener: (event: StatusEvent) => void): () => void
  close (): Promise<void>
}

/**
 * The audit event log (issue 4 item 4). Appends are in-memory pushes, committed in batches, so
 * recording an event never adds a disk flush to the CONNECT path; `flush()` makes them durable.
 */
export interface EventLog {
  /** Queues `event` and returns it with its id and time. No I/O; committed by the next flush. */
  append (event: NewEvent): AuditEvent
  /**
   * Queues a newer version of an event appended earlier (same id, e.g. a larger count). Dropped
   * when the event was pruned meanwhile, so a rewrite never brings an event back.
   */
  replace (event: AuditEvent): void
  /** Commits everything queued in one transaction; resolves once durable. Throws STORE_UNAVAILABLE. */
  flush (): Promise<void>
  /**
   * Newest first, queued events included. Throws VALIDATION_FAILED for a cursor that no page
   * returned or a limit outside 1..500.
   */
  query (query: EventQuery): Promise<EventPage>
  /**
   * Deletes at most `batch` events, oldest first, among those older than `before` (ISO) or beyond
   * the newest `maxEvents`. Returns how many it deleted; 0 means nothing is left to prune.
   */
  prune (limits: { before: string; maxEvents: number; batch: number }): Promise<number>
  /** Commits what is queued and stops the flush timer. Idempotent. */
  close (): Promise<void>
}
