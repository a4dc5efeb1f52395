/**
 * Certificate search (PRODUCT §3 "search and filter, alone or combined … paginated and
 * sortable"): the query, the small per-certificate summary a store filters and sorts, the
 * predicate and comparator built from a query, and the opaque page cursor.
 *
 * Order: the sort key, then the id (fingerprint) in the same direction, so the order is total.
 * Without `sort` the order is the id, ascending (the order of issue 2). A cursor is the (sort
 * value, id) of the last item of a page plus a hash of the filters and sort it was made for; the
 * next page continues strictly after that position, so certificates added or deleted between
 * pages never make one that existed throughout be skipped or repeated. A certificate whose sort
 * value itself changes between pages (sort=updatedAt and a status change) may move across the
 * cursor: that is the one case a page walk can see it twice or not at all.
 */
import { CertmqError } from '../errors.js'
import type { CertificateRecord, CertSource, CertStatus } from './certificate.js'

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 500
export const DAY_MS = 86_400_000
/** The largest `expiringWithinDays` accepted: 100 years. */
export const MAX_EXPIRING_WITHIN_DAYS = 36_500

export const CERTIFICATE_SORT_KEYS = ['createdAt', 'updatedAt', 'notAfter', 'commonName'] as const
export type CertificateSortKey = (typeof CERTIFICATE_SORT_KEYS)[number]
export const SORT_ORDERS = ['asc', 'desc'] as const
export type SortOrder = (typeof SORT_ORDERS)[number]

export interface CertificateQuery {
  /** Exact match, or a prefix when it ends with `*`. */
  commonName?: string
  organizationalUnit?: string
  /** Compared in canonical form (see canonicalSerial). */
  serialNumber?: string
  /** Any of these; an empty list means any status. */
  status?: readonly CertStatus[]
  caId?: string
  clientId?: string
  source?: CertSource
  /** Validity ranges: ISO 8601 instants, both bounds inclusive. */
  notBeforeFrom?: string
  notBeforeTo?: string
  notAfterFrom?: string
  notAfterTo?: string
  /** true: notAfter < now (RFC 5280: valid through notAfter inclusive); false: notAfter >= now. */
  expired?: boolean
  /** Not expired at `now` and notAfter <= now + N days. */
  expiringWithinDays?: number
  /** ISO 8601 instant `expired` and `expiringWithinDays` are evaluated at; required when either is set. */
  now?: string
  /** Default: the id, ascending. */
  sort?: CertificateSortKey
  /** Default asc. */
  order?: SortOrder
  /** Page size, 1..500. */
  limit: number
  /** Opaque cursor from a previous page of the same query. */
  cursor?: string
}

export interface CertificatePage<T> {
  items: T[]
  nextCursor: string | null
  /** How many certificates match the filters (all pages together). */
  total: number
}

/** What search needs of a certificate: small enough to keep 100k+ of them in memory. */
export interface CertificateSummary {
  id: string
  commonName: string
  organizationalUnit: string
  /** Canonical form. */
  serialNumber: string
  status: CertStatus
  caId: string
  clientId: string | null
  source: CertSource
  /** Epoch milliseconds. */
  notBefore: number
  notAfter: number
  createdAt: number
  updatedAt: number
}

export function summarizeCertificate (record: CertificateRecord): CertificateSummary {
  return {
    id: record.id,
    commonName: record.commonName,
    organizationalUnit: record.organizationalUnit,
    serialNumber: canonicalSerial(record.serialNumber),
    status: record.status,
    caId: record.caId,
    clientId: record.clientId,
    source: record.source,
    notBefore: Date.parse(record.notBefore),
    notAfter: Date.parse(record.notAfter),
    createdAt: Date.parse(record.createdAt),
    updatedAt: Date.parse(record.updatedAt)
  }
}

/** Serial numbers compare in canonical form: uppercase hex, no leading zeros, no colons. */
export function canonicalSerial (serial: string): string {
  return serial.replace(/[:\s]/g, '').toUpperCase().replace(/^0+(?=.)/, '')
}

/** Whether a `commonName` filter value matches (exact, or prefix with a trailing `*`). */
export function matchesCommonName (filter: string, commonName: string): boolean {
  return filter.endsWith('*') ? commonName.startsWith(filter.slice(0, -1)) : commonName === filter
}

/** The key a store orders by: a sort key, or the id alone. */
export type OrderKey = CertificateSortKey | 'id'
export const ORDER_KEYS: readonly OrderKey[] = ['id', ...CERTIFICATE_SORT_KEYS]

/** A place in an order: the sort value and the id. */
export interface OrderPosition {
  value: number | string
  id: string
}

export function sortValueOf (summary: CertificateSummary, key: OrderKey): number | string {
  return summary[key]
}

function compareValues (a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Ascending (value, id): the order a store keeps per key. Strings compare by UTF-16 code unit. */
export function compareAscending (key: OrderKey): (a: CertificateSummary, b: CertificateSummary) => number {
  if (key === 'id') return (a, b) => compareValues(a.id, b.id)
  return (a, b) => compareValues(a[key], b[key]) || compareValues(a.id, b.id)
}

/** Inclusive epoch-ms bounds; undefined means unbounded. */
export interface MsRange {
  from: number | undefined
  to: number | undefined
}

/** What a store runs: the predicate, the order, the page start and how to write the next cursor. */
export interface CompiledCertificateQuery {
  matches: (summary: CertificateSummary) => boolean
  orderKey: OrderKey
  descending: boolean
  /** Order of the result (direction applied). */
  compare: (a: CertificateSummary, b: CertificateSummary) => number
  /** Whether `summary` comes strictly after the cursor position (always true on a first page). */
  isAfterCursor: (summary: CertificateSummary) => boolean
  /** The position the page continues after (from the cursor), undefined on a first page. */
  after: OrderPosition | undefined
  /** No filter is set: every certificate matches. */
  matchesAll: boolean
  limit: number
  /** The cursor that continues after `last`. */
  cursorAfter: (last: CertificateSummary) => string
  /** The effective notAfter bounds after `expired` / `expiringWithinDays` (exposed for tests). */
  notAfter: MsRange
}

function invalid (field: string, message: string, details: Record<string, unknown> = {}): CertmqError {
  return new CertmqError('VALIDATION_FAILED', `${field}: ${message}`, { field, ...details })
}

/** Throws VALIDATION_FAILED unless `limit` is an integer in 1..MAX_PAGE_SIZE. */
export function checkLimit (limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw invalid('limit', `must be an integer between 1 and ${MAX_PAGE_SIZE}, got ${limit}`, { limit })
  }
}

/** Epoch ms of an ISO 8601 instant already checked by parseInstant, or of a store-side caller's value. */
function instantMs (field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw invalid(field, `must be an ISO 8601 instant such as 2026-01-31T00:00:00Z, got "${value}"`)
  return ms
}

function intersect (range: MsRange, from: number | undefined, to: number | undefined): MsRange {
  return {
    from: from === undefined ? range.from : range.from === undefined ? from : Math.max(range.from, from),
    to: to === undefined ? range.to : range.to === undefined ? to : Math.min(range.to, to)
  }
}

/**
 * The notAfter bounds of a query at `query.now`: notAfterFrom/To, narrowed by `expired`
 * (true: notAfter <= now - 1 ms; false: notAfter >= now) and `expiringWithinDays` (now <= notAfter
 * <= now + N days). A certificate whose notAfter equals now is valid, so not expired, and is
 * expiring within 0 days. Throws VALIDATION_FAILED when a relative filter is set without `now`.
 */
export function effectiveNotAfter (query: CertificateQuery): MsRange {
  let range: MsRange = { from: instantMs('notAfterFrom', query.notAfterFrom), to: instantMs('notAfterTo', query.notAfterTo) }
  if (query.expired === undefined && query.expiringWithinDays === undefined) return range
  const now = instantMs('now', query.now)
  if (now === undefined) throw invalid('now', 'is required with expired or expiringWithinDays')
  if (query.expired === true) range = intersect(range, undefined, now - 1)
  if (query.expired === false) range = intersect(range, now, undefined)
  if (query.expiringWithinDays !== undefined) {
    const days = query.expiringWithinDays
    if (!Number.isInteger(days) || days < 0 || days > MAX_EXPIRING_WITHIN_DAYS) {
      throw invalid('expiringWithinDays', `must be an integer from 0 to ${MAX_EXPIRING_WITHIN_DAYS}, got ${days}`)
    }
    range = intersect(range, now, now + days * DAY_MS)
  }
  return range
}

function inRange (range: MsRange, value: number): boolean {
  return (range.from === undefined || value >= range.from) && (range.to === undefined || value <= range.to)
}

/** One small check per filter that is set; an empty list matches everything. */
function filterChecks (query: CertificateQuery, notAfter: MsRange): Array<(s: CertificateSummary) => boolean> {
  const checks: Array<(s: CertificateSummary) => boolean> = []
  const { commonName, organizationalUnit, caId, clientId, source } = query
  if (commonName !== undefined) {
    const prefix = commonName.endsWith('*') ? commonName.slice(0, -1) : undefined
    checks.push(prefix === undefined ? (s) => s.commonName === commonName : (s) => s.commonName.startsWith(prefix))
  }
  if (organizationalUnit !== undefined) checks.push((s) => s.organizationalUnit === organizationalUnit)
  if (query.serialNumber !== undefined) {
    const serial = canonicalSerial(query.serialNumber)
    checks.push((s) => s.serialNumber === serial)
  }
  if (query.status !== undefined && query.status.length > 0) {
    const statuses = new Set<string>(query.status)
    checks.push((s) => statuses.has(s.status))
  }
  if (caId !== undefined) checks.push((s) => s.caId === caId)
  if (clientId !== undefined) checks.push((s) => s.clientId === clientId)
  if (source !== undefined) checks.push((s) => s.source === source)
  const notBefore: MsRange = { from: instantMs('notBeforeFrom', query.notBeforeFrom), to: instantMs('notBeforeTo', query.notBeforeTo) }
  if (notBefore.from !== undefined || notBefore.to !== undefined) checks.push((s) => inRange(notBefore, s.notBefore))
  if (notAfter.from !== undefined || notAfter.to !== undefined) checks.push((s) => inRange(notAfter, s.notAfter))
  return checks
}

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

/**
 * The position a cursor continues after. Throws VALIDATION_FAILED (field `cursor`) when it is
 * not a cursor of this API, or was made for other filters or another sort.
 */
export function decodeCursor (cursor: string, hash: string, key: OrderKey): OrderPosition {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  const valueType = key === 'id' || key === 'commonName' ? 'string' : 'number'
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== CURSOR_VERSION || typeof parsed[1] !== 'string' ||
    typeof parsed[2] !== valueType || typeof parsed[3] !== 'string' || parsed[3] === '') {
    if (Array.isArray(parsed) && parsed[0] === CURSOR_VERSION && typeof parsed[1] === 'string' && parsed[1] !== hash) throw otherQuery(cursor)
    throw invalid('cursor', 'not a cursor returned by a previous page', { cursor })
  }
  if (parsed[1] !== hash) throw otherQuery(cursor)
  return { value: parsed[2] as number | string, id: parsed[3] as string }
}

function otherQuery (cursor: string): CertmqError {
  return invalid('cursor', 'was returned for other filters or another sort; repeat the search without cursor', { cursor })
}

/** Checks and compiles a query. Throws VALIDATION_FAILED naming the field. */
export function compileCertificateQuery (query: CertificateQuery): CompiledCertificateQuery {
  checkLimit(query.limit)
  const notAfter = effectiveNotAfter(query)
  const checks = filterChecks(query, notAfter)
  const orderKey: OrderKey = query.sort ?? 'id'
  const descending = query.order === 'desc'
  const ascending = compareAscending(orderKey)
  const compare = descending ? (a: CertificateSummary, b: CertificateSummary) => ascending(b, a) : ascending
  const hash = queryHash(query)
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, hash, orderKey)
  const isAfterCursor = after === undefined
    ? () => true
    : (s: CertificateSummary) => {
        const order = compareValues(sortValueOf(s, orderKey), after.value) || compareValues(s.id, after.id)
        return descending ? order < 0 : order > 0
      }
  const matches = checks.length === 0
    ? () => true
    : (s: CertificateSummary) => {
        for (const check of checks) if (!check(s)) return false
        return true
      }
  return {
    matches,
    orderKey,
    descending,
    compare,
    isAfterCursor,
    after,
    matchesAll: checks.length === 0,
    limit: query.limit,
    cursorAfter: (last) => encodeCursor(hash, { value: sortValueOf(last, orderKey), id: last.id }),
    notAfter
  }
}

/**
 * One page from summaries that arrive in the result order: counts every match (total), keeps
 * the first `limit` after the cursor, and returns the cursor after the last kept one when more
 * follow. When the caller knows the total already, `ordered` may start right after the cursor
 * and is read only until one match beyond the page.
 */
export function takeSummaryPage (ordered: Iterable<CertificateSummary>, compiled: CompiledCertificateQuery, knownTotal?: number):
  CertificatePage<CertificateSummary> {
  const items: CertificateSummary[] = []
  let total = 0
  let more = false
  for (const summary of ordered) {
    if (!compiled.matches(summary)) continue
    total++
    if (more || !compiled.isAfterCursor(summary)) continue
    if (items.length === compiled.limit) {
      more = true
      if (knownTotal !== undefined) break
    } else {
      items.push(summary)
    }
  }
  const last = items[items.length - 1]
  return { items, total: knownTotal ?? total, nextCursor: more && last !== undefined ? compiled.cursorAfter(last) : null }
}
