/**
 * The LMDB environment of the embedded store: one root env, one named sub-database per kind of
 * record. Keys are certificate / CA ids (SHA-256 fingerprints, lowercase hex) or meta keys.
 */
import { open, type Database, type RootDatabase } from 'lmdb'
import type { AssociatedClient, CertificateRecord } from '../../domain/certificate.js'
import type { CaRecord } from '../../domain/ca.js'
import type { AuditEvent } from '../../domain/event.js'
import type { StoredCrl } from '../ports.js'
import { withAllDisconnected } from './associated-clients.js'

/** What the deny list keeps about a revoked fingerprint. */
export interface DenyEntry {
  revokedAt: string
}

export interface Databases {
  root: RootDatabase
  /** CA id → CaRecord */
  cas: Database<CaRecord, string>
  /** certificate id → CertificateRecord */
  certs: Database<CertificateRecord, string>
  /** revoked certificate id → DenyEntry; outlives the certificate record */
  denied: Database<DenyEntry, string>
  /** certificate id → associated clients, newest first */
  clients: Database<AssociatedClient[], string>
  /** CA id → the CRL in force for it (bytes and revoked serials) */
  crls: Database<StoredCrl, string>
  /** meta key → string */
  meta: Database<string, string>
  /** event id (sortable: time, then sequence) → AuditEvent */
  events: Database<AuditEvent, string>
  /** `<target id>/<event id>` → true: the events of one certificate or CA without a scan */
  eventTargets: Database<boolean, string>
}

/** The embedded store's directory under the data directory. */
export const REGISTRY_DIR = 'registry'

/** The file of an environment: what a backup holds, and what a restore puts back. */
export const BACKUP_FILE = 'data.mdb'

/** What the event log uses of the environment (embedded-event-log.ts). */
export type EventTable = Pick<Databases, 'root' | 'events' | 'eventTargets'>

/**
 * Opens (creating when absent) the environment in directory `path`. Throws whatever lmdb throws;
 * the store wraps it. Default sync settings are kept on purpose: `transactionSync` then returns
 * only after the commit is flushed, so an acknowledged write survives kill -9 and power loss.
 */
export function openDatabases (path: string): Databases {
  // noSubdir: false because lmdb would otherwise treat a directory name with a dot as a file name
  // seven sub-databases today; room for more without touching existing environments
  const root = open({ path, noSubdir: false, maxDbs: 16 })
  try {
    return {
      root,
      cas: root.openDB<CaRecord, string>({ name: 'cas' }),
      certs: root.openDB<CertificateRecord, string>({ name: 'certs' }),
      denied: root.openDB<DenyEntry, string>({ name: 'denied' }),
      clients: root.openDB<AssociatedClient[], string>({ name: 'clients' }),
      meta: root.openDB<string, string>({ name: 'meta' }),
      events: root.openDB<AuditEvent, string>({ name: 'events' }),
      eventTargets: root.openDB<boolean, string>({ name: 'eventTargets' }),
      crls: root.openDB<StoredCrl, string>({ name: 'crls' })
    }
  } catch (err) {
    void root.close()
    throw err
  }
}

/**
 * Marks every entry shown connected as disconnected (withAllDisconnected), certificate by
 * certificate; run it inside a write transaction. Returns how many certificates changed.
 */
export function releaseAllClients (clients: Databases['clients']): number {
  let changed = 0
  for (const { key, value } of clients.getRange()) {
    const next = withAllDisconnected(value)
    if (next === undefined) continue
    clients.putSync(key, next)
    changed++
  }
  return changed
}
