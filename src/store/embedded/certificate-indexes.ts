/**
 * In-memory indexes over the certificate records: Client ID → certificate id and CA id → ids of
 * its certificates. Built from the records at open and changed only after a commit succeeds.
 *
 * Because every write of the embedded store runs in one synchronous LMDB transaction and this
 * process is the only writer, the indexes equal the committed state whenever a transaction
 * starts, so a transaction may use them to find candidates; it still reads the records
 * themselves before deciding.
 */
import type { CertificateRecord } from '../../domain/certificate.js'

export class CertificateIndexes {
  private readonly idByClientId = new Map<string, string>()
  private readonly idsByCa = new Map<string, Set<string>>()

  /** Replaces the contents with the given records (open / reopen). */
  rebuild (records: Iterable<Pick<CertificateRecord, 'id' | 'caId' | 'clientId'>>): void {
    this.clear()
    for (const record of records) this.add(record)
  }

  clear (): void {
    this.idByClientId.clear()
    this.idsByCa.clear()
  }

  add (record: Pick<CertificateRecord, 'id' | 'caId' | 'clientId'>): void {
    if (record.clientId !== null) this.idByClientId.set(record.clientId, record.id)
    let ids = this.idsByCa.get(record.caId)
    if (ids === undefined) {
      ids = new Set()
      this.idsByCa.set(record.caId, ids)
    }
    ids.add(record.id)
  }

  remove (record: Pick<CertificateRecord, 'id' | 'caId' | 'clientId'>): void {
    if (record.clientId !== null && this.idByClientId.get(record.clientId) === record.id) {
      this.idByClientId.delete(record.clientId)
    }
    const ids = this.idsByCa.get(record.caId)
    if (ids === undefined) return
    ids.delete(record.id)
    if (ids.size === 0) this.idsByCa.delete(record.caId)
  }

  /** The id of the certificate registered with `clientId`, if any. */
  idOfClientId (clientId: string): string | undefined {
    return this.idByClientId.get(clientId)
  }

  /** Ids of the certificates under CA `caId`, unordered. */
  idsOfCa (caId: string): ReadonlySet<string> {
    return this.idsByCa.get(caId) ?? new Set()
  }
}
