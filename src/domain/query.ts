/** Certificate search: filters and paging (PRODUCT §3). */
import type { CertSource, CertStatus } from './certificate.js'

export interface CertificateQuery {
  /** Exact match, or a prefix when it ends with `*`. */
  commonName?: string
  organizationalUnit?: string
  serialNumber?: string
  status?: readonly CertStatus[]
  caId?: string
  clientId?: string
  source?: CertSource
  /** Page size, 1..500. */
  limit: number
  /** Opaque cursor from a previous page. */
  cursor?: string
}

export interface CertificatePage<T> {
  items: T[]
  nextCursor: string | null
}

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 500

/** Serial numbers compare in canonical form: uppercase hex, no leading zeros, no colons. */
export function canonicalSerial (serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toUpperCase().replace(/^0+(?=.)/, '')
  return hex
}

/** Whether a `commonName` filter value matches (exact, or prefix with a trailing `*`). */
export function matchesCommonName (filter: string, commonName: string): boolean {
  return filter.endsWith('*') ? commonName.startsWith(filter.slice(0, -1)) : commonName === filter
}
