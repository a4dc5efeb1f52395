/**
 * Certificate search (PRODUCT §3 "search and filter, alone or combined … paginated and
 * sortable"): the query, the small per-certificate summary a store filters and sorts, and the
 * order. query-compile.ts turns a query into a predicate, comparator and page; query-cursor.ts
 * writes and reads the cursor; query-params.ts parses the HTTP parameters.
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

/** The prefix a `commonName` filter asks for (it ends with `*`), or undefined for an exact match. */
export function commonNamePrefix (filter: string): string | undefined {
  return filter.endsWith('*') ? filter.slice(0, -1) : undefined
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

/** -1, 0 or 1; strings by UTF-16 code unit. */
export function compareValues (a: number | string, b: number | string): number {
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
/** VALIDATION_FAILED naming a search field: `<field>: <message>`, details.field = field. */
export function searchFieldError (field: string, message: string, details: Record<string, unknown> = {}): CertmqError {
  return new CertmqError('VALIDATION_FAILED', `${field}: ${message}`, { field, ...details })
}
