/**
 * The certificate search parameters as text (an HTTP query string) → CertificateQuery. Every
 * bad value is VALIDATION_FAILED whose message starts with `querystring/<parameter>` and whose
 * details name the parameter (`field`), as every other query-string error of the API does.
 */
import { CertmqError } from '../errors.js'
import { CERT_SOURCES, CERT_STATUSES, normalizeId, type CertSource, type CertStatus } from './certificate.js'
import { decodeCursor, queryHash } from './query-cursor.js'
import {
  canonicalSerial, CERTIFICATE_SORT_KEYS, DEFAULT_PAGE_SIZE, MAX_EXPIRING_WITHIN_DAYS, MAX_PAGE_SIZE, SORT_ORDERS,
  type CertificateQuery, type CertificateSortKey, type SortOrder
} from './query.js'

/** What a query-string parser hands over: text, a list of texts for a repeated key, or numbers already coerced. */
export type SearchParams = Readonly<Record<string, string | number | boolean | ReadonlyArray<string> | undefined>>

const TEXT_FILTERS = ['commonName', 'organizationalUnit', 'serialNumber', 'caId', 'clientId'] as const
const INSTANT_FILTERS = ['notBeforeFrom', 'notBeforeTo', 'notAfterFrom', 'notAfterTo'] as const

/** ISO 8601 date-time with seconds optional, fraction optional, and a zone (Z or ±hh:mm) required. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i

/** VALIDATION_FAILED naming a query-string parameter, as every query-string error of the API is. */
export function invalid (field: string, message: string, details: Record<string, unknown> = {}): CertmqError {
  return new CertmqError('VALIDATION_FAILED', `querystring/${field}: ${message}`, { location: 'querystring', field, ...details })
}

function single (params: SearchParams, field: string): string | undefined {
  const value = params[field]
  if (value === undefined) return undefined
  if (Array.isArray(value)) {
    const present = value.filter((v) => v !== '')
    if (present.length > 1) throw invalid(field, 'may be given once')
    return present[0]
  }
  const text = String(value)
  return text === '' ? undefined : text
}

/** Parses an ISO 8601 instant (a zone is required, so it names one moment); returns it normalised to UTC. */
export function parseInstant (field: string, text: string): string {
  const match = INSTANT.exec(text)
  const ms = Date.parse(text)
  const example = 'such as 2026-01-31T00:00:00Z'
  if (match === null || Number.isNaN(ms)) throw invalid(field, `must be an ISO 8601 instant with a zone, ${example}, got "${text}"`)
  const [, year, month, day, hour, minute, second] = match
  // Date.parse rolls 2026-02-30 over into March; refuse a calendar date that does not exist
  const probe = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  if (probe.getUTCMonth() !== Number(month) - 1 || probe.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 ||
    Number(second ?? 0) > 59) {
    throw invalid(field, `"${text}" is not a date and time that exists`)
  }
  return new Date(ms).toISOString()
}

/**
 * Names from `a,b` and repeated parameters alike, deduplicated; one not in `allowed` is a 400
 * naming `field` (`noun` says what a name is: "certificate status", "event type").
 */
export function parseNameList<T extends string> (field: string, value: SearchParams[string], allowed: readonly T[], noun: string): T[] | undefined {
  if (value === undefined) return undefined
  const texts = Array.isArray(value) ? value : [String(value)]
  const names = [...new Set(texts.flatMap((text) => text.split(',')).map((name) => name.trim()).filter((name) => name !== ''))]
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw invalid(field, `"${name}" is not ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun} (allowed: ${allowed.join(', ')})`, { allowedValues: [...allowed] })
    }
  }
  return names.length === 0 ? undefined : names as T[]
}

function parseStatuses (value: SearchParams[string]): CertStatus[] | undefined {
  return parseNameList('status', value, CERT_STATUSES, 'certificate status')
}

function oneOf<T extends string> (field: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined
  if (!(allowed as readonly string[]).includes(text)) {
    throw invalid(field, `"${text}" is not allowed (allowed: ${allowed.join(', ')})`, { allowedValues: [...allowed] })
  }
  return text as T
}

function integer (field: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}, got "${text}"`)
  }
  return Number(text)
}

/**
 * The search parameters of GET /api/v1/certificates. Empty values mean "no filter". `status`
 * may be repeated and each value may be a comma-separated list; `caId` is normalized (lowercase,
 * no colons), and a cursor is checked against the filters and sort it comes with. Throws
 * VALIDATION_FAILED naming the parameter. `now` is not set here: the caller adds the clock's reading.
 */
export function parseCertificateSearch (params: SearchParams): CertificateQuery {
  const query: CertificateQuery = { limit: integer('limit', single(params, 'limit'), 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE }
  for (const field of TEXT_FILTERS) {
    const value = single(params, field)
    if (value !== undefined) query[field] = value
  }
  // a serial that is not hex can match nothing: an answer of 0 would hide the mistake
  if (query.serialNumber !== undefined && !/^[0-9A-F]+$/.test(canonicalSerial(query.serialNumber))) {
    throw invalid('serialNumber', `"${query.serialNumber}" is not a hexadecimal serial number (colons, case and leading zeros do not matter)`)
  }
  if (query.caId !== undefined) query.caId = normalizeId(query.caId)
  const status = parseStatuses(params['status'])
  if (status !== undefined) query.status = status
  const source = oneOf<CertSource>('source', single(params, 'source'), CERT_SOURCES)
  if (source !== undefined) query.source = source
  for (const field of INSTANT_FILTERS) {
    const value = single(params, field)
    if (value !== undefined) query[field] = parseInstant(field, value)
  }
  const expired = oneOf('expired', single(params, 'expired'), ['true', 'false'] as const)
  if (expired !== undefined) query.expired = expired === 'true'
  const expiring = integer('expiringWithinDays', single(params, 'expiringWithinDays'), 0, MAX_EXPIRING_WITHIN_DAYS)
  if (expiring !== undefined) query.expiringWithinDays = expiring
  const sort = oneOf<CertificateSortKey>('sort', single(params, 'sort'), CERTIFICATE_SORT_KEYS)
  if (sort !== undefined) query.sort = sort
  const order = oneOf<SortOrder>('order', single(params, 'order'), SORT_ORDERS)
  if (order !== undefined) query.order = order
  const cursor = single(params, 'cursor')
  if (cursor !== undefined) {
    query.cursor = cursor
    // checked here rather than first by the store, so the error names the parameter as every other one does
    decodeCursor(cursor, queryHash(query), query.sort ?? 'id', invalid)
  }
  return query
}
