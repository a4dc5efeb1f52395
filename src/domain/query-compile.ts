/**
 * Compiling a certificate search (query.ts) into what a store runs: the checks of every filter
 * that is set, the effective notAfter range at `now`, the comparator, the cursor position, and
 * taking one page from summaries in result order.
 */
import {
  canonicalSerial, commonNamePrefix, compareAscending, compareValues, MAX_EXPIRING_WITHIN_DAYS, MAX_PAGE_SIZE, searchFieldError, sortValueOf, DAY_MS,
  type CertificatePage, type CertificateQuery, type CertificateSummary, type MsRange, type OrderKey, type OrderPosition
} from './query.js'
import { decodeCursor, encodeCursor, queryHash } from './query-cursor.js'

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
  /** The effective notAfter bounds after `expired` / `expiringWithinDays`: a store may use them as a range of its notAfter order. */
  notAfter: MsRange
}

/** Throws VALIDATION_FAILED unless `limit` is an integer in 1..max (certificate and event pages alike). */
export function checkLimit (limit: number, max = MAX_PAGE_SIZE): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw searchFieldError('limit', `must be an integer between 1 and ${max}, got ${limit}`, { limit })
  }
}

/** Epoch ms of an ISO 8601 instant already checked by parseInstant, or of a store-side caller's value. */
function instantMs (field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw searchFieldError(field, `must be an ISO 8601 instant such as 2026-01-31T00:00:00Z, got "${value}"`)
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
  if (now === undefined) throw searchFieldError('now', 'is required with expired or expiringWithinDays')
  if (query.expired === true) range = intersect(range, undefined, now - 1)
  if (query.expired === false) range = intersect(range, now, undefined)
  if (query.expiringWithinDays !== undefined) {
    const days = query.expiringWithinDays
    if (!Number.isInteger(days) || days < 0 || days > MAX_EXPIRING_WITHIN_DAYS) {
      throw searchFieldError('expiringWithinDays', `must be an integer from 0 to ${MAX_EXPIRING_WITHIN_DAYS}, got ${days}`)
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
    const prefix = commonNamePrefix(commonName)
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
