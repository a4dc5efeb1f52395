/**
 * Certificate search for the embedded store: filters, the page cursor, and taking one page from
 * records that arrive in id order. The cursor is the base64url of the last id on the page, and
 * the next page continues with ids strictly greater than it, so inserts and deletes between
 * pages neither skip nor repeat the records that were there throughout.
 */
import { CertmqError } from '../../errors.js'
import type { CertificateRecord } from '../../domain/certificate.js'
import { canonicalSerial, matchesCommonName, MAX_PAGE_SIZE, type CertificatePage, type CertificateQuery } from '../../domain/query.js'

export function encodeCursor (lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url')
}

/** The id the page continues after, or undefined for the first page. Throws VALIDATION_FAILED. */
export function decodeCursor (cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined
  const lastId = Buffer.from(cursor, 'base64url').toString('utf8')
  if (lastId === '' || encodeCursor(lastId) !== cursor) {
    throw new CertmqError('VALIDATION_FAILED', 'certificate query cursor: not a cursor returned by a previous page', { cursor })
  }
  return lastId
}

/** Throws VALIDATION_FAILED unless `limit` is an integer in 1..MAX_PAGE_SIZE. */
export function checkLimit (limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new CertmqError('VALIDATION_FAILED', `certificate query limit: must be an integer between 1 and ${MAX_PAGE_SIZE}, got ${limit}`,
      { limit })
  }
}

/** A predicate for every filter in the query; an empty status list means any status. */
export function certificateFilter (query: CertificateQuery): (record: CertificateRecord) => boolean {
  const serial = query.serialNumber === undefined ? undefined : canonicalSerial(query.serialNumber)
  const statuses = query.status !== undefined && query.status.length > 0 ? new Set(query.status) : undefined
  return (record) =>
    (query.commonName === undefined || matchesCommonName(query.commonName, record.commonName)) &&
    (query.organizationalUnit === undefined || record.organizationalUnit === query.organizationalUnit) &&
    (serial === undefined || canonicalSerial(record.serialNumber) === serial) &&
    (statuses === undefined || statuses.has(record.status)) &&
    (query.caId === undefined || record.caId === query.caId) &&
    (query.clientId === undefined || record.clientId === query.clientId) &&
    (query.source === undefined || record.source === query.source)
}

/**
 * Takes up to `limit` matching records from `candidates` (ascending id order, all after the
 * cursor). Reads one match beyond the page to know whether a next page exists.
 */
export function takePage (candidates: Iterable<CertificateRecord>, matches: (record: CertificateRecord) => boolean, limit: number):
  CertificatePage<CertificateRecord> {
  const items: CertificateRecord[] = []
  for (const record of candidates) {
    if (!matches(record)) continue
    if (items.length === limit) {
      const last = items[items.length - 1] as CertificateRecord
      return { items, nextCursor: encodeCursor(last.id) }
    }
    items.push(record)
  }
  return { items, nextCursor: null }
}
