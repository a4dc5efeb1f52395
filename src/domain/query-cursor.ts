/**
 * The page cursor of certificate search (see query.ts for the order it walks): base64url of
 * `[version, queryHash, sortValue, id]`, bound to the filters and sort by the hash.
 */
import type { CertmqError } from '../errors.js'
import { canonicalSerial, searchFieldError, type CertificateQuery, type OrderKey, type OrderPosition } from './query.js'

/**
 * A short hash of what a cursor is bound to: every filter and the sort, not the page size and
 * not `now` (so an "expiring within 30 days" walk may take minutes). FNV-1a, 32 bits, hex: it
 * tells queries apart, it is not a secret.
 */
export function queryHash (query: CertificateQuery): string {
  const canonical = JSON.stringify([
    query.commonName ?? null, query.organizationalUnit ?? null,
    query.serialNumber === undefined ? null : canonicalSerial(query.serialNumber),
    query.status === undefined ? [] : [...new Set(query.status)].sort(),
    query.caId ?? null, query.clientId ?? null, query.source ?? null,
    [query.notBeforeFrom, query.notBeforeTo, query.notAfterFrom, query.notAfterTo].map((v) => (v === undefined ? null : Date.parse(v))),
    query.expired ?? null, query.expiringWithinDays ?? null,
    query.sort ?? 'id', query.order ?? 'asc'
  ])
  let hash = 0x811c9dc5
  for (let i = 0; i < canonical.length; i++) {
    hash ^= canonical.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

const CURSOR_VERSION = 1

/** base64url of `[version, queryHash, sortValue, id]`. */
export function encodeCursor (hash: string, position: OrderPosition): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, hash, position.value, position.id]), 'utf8').toString('base64url')
}

/** How a refused cursor is reported: searchFieldError for a store, the query-string form for the API. */
type FieldError = (field: string, message: string, details: Record<string, unknown>) => CertmqError

/**
 * The position a cursor continues after. Throws VALIDATION_FAILED (field `cursor`, made by
 * `fail`) when it is not a cursor of this API, or was made for other filters or another sort.
 */
export function decodeCursor (cursor: string, hash: string, key: OrderKey, fail: FieldError = searchFieldError): OrderPosition {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  const valueType = key === 'id' || key === 'commonName' ? 'string' : 'number'
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== CURSOR_VERSION || typeof parsed[1] !== 'string' ||
    typeof parsed[2] !== valueType || typeof parsed[3] !== 'string' || parsed[3] === '') {
    if (Array.isArray(parsed) && parsed[0] === CURSOR_VERSION && typeof parsed[1] === 'string' && parsed[1] !== hash) throw otherQuery(cursor, fail)
    throw fail('cursor', 'not a cursor returned by a previous page', { cursor })
  }
  if (parsed[1] !== hash) throw otherQuery(cursor, fail)
  return { value: parsed[2] as number | string, id: parsed[3] as string }
}

function otherQuery (cursor: string, fail: FieldError): CertmqError {
  return fail('cursor', 'was returned for other filters or another sort; repeat the search without cursor', { cursor })
}
