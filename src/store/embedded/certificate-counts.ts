/**
 * In-memory counters over the certificate records for the metrics scrape: certificates by status
 * (kept incrementally, O(1) per write) and, per CA, how many certificates that are not revoked
 * expire in each minute (a multiset of expiry minutes: certificates issued together share an
 * entry, and a minute number is a small integer V8 stores unboxed). Counting scans those entries
 * (≈1 ms at 100k certificates), so a scrape never reads LMDB. Built at open and changed only
 * after a commit succeeds, like CertificateIndexes.
 */
import { CERT_STATUSES, type CertificateRecord, type CertStatus } from '../../domain/certificate.js'
import type { CertificateCounts } from '../ports.js'

type Counted = Pick<CertificateRecord, 'caId' | 'status' | 'notAfter'>

const MINUTE_MS = 60_000
const DAY_MINUTES = 1440

/** Expiry to the minute (floor); the gauges are exact to within a minute. */
function expiryMinute (record: Counted): number {
  return Math.floor(Date.parse(record.notAfter) / MINUTE_MS)
}

export class CertificateCounters {
  private readonly byStatus = new Map<CertStatus, number>()
  /** CA id → expiry minute → number of certificates that are not revoked. */
  private readonly expiryByCa = new Map<string, Map<number, number>>()

  rebuild (records: Iterable<Counted>): void {
    this.clear()
    for (const record of records) this.add(record)
  }

  clear (): void {
    this.byStatus.clear()
    this.expiryByCa.clear()
  }

  add (record: Counted): void {
    this.byStatus.set(record.status, (this.byStatus.get(record.status) ?? 0) + 1)
    if (record.status === 'revoked') return
    let expiries = this.expiryByCa.get(record.caId)
    if (expiries === undefined) {
      expiries = new Map()
      this.expiryByCa.set(record.caId, expiries)
    }
    const minute = expiryMinute(record)
    expiries.set(minute, (expiries.get(minute) ?? 0) + 1)
  }

  remove (record: Counted): void {
    const count = this.byStatus.get(record.status) ?? 0
    if (count <= 1) this.byStatus.delete(record.status)
    else this.byStatus.set(record.status, count - 1)
    if (record.status === 'revoked') return
    const expiries = this.expiryByCa.get(record.caId)
    if (expiries === undefined) return
    const minute = expiryMinute(record)
    const left = (expiries.get(minute) ?? 0) - 1
    if (left > 0) expiries.set(minute, left)
    else expiries.delete(minute)
    if (expiries.size === 0) this.expiryByCa.delete(record.caId)
  }

  /** A committed status change: `before` and `after` are the same certificate. */
  change (before: Counted, after: Counted): void {
    this.remove(before)
    this.add(after)
  }

  /**
   * Certificates by status (every status present, zero when none) and, per CA and for each of
   * `withinDays`, the not-revoked certificates still valid at `nowMs` whose notAfter falls
   * within that many days (both to the minute). CAs without such certificates are left out.
   */
  count (nowMs: number, withinDays: readonly number[]): CertificateCounts {
    const byStatus = Object.fromEntries(CERT_STATUSES.map((s) => [s, this.byStatus.get(s) ?? 0])) as Record<CertStatus, number>
    const nowMinute = Math.floor(nowMs / MINUTE_MS)
    const limits = withinDays.map((days) => nowMinute + days * DAY_MINUTES)
    const expiring: CertificateCounts['expiring'] = []
    for (const [caId, expiries] of this.expiryByCa) {
      const counts = new Array<number>(limits.length).fill(0)
      for (const [minute, count] of expiries) {
        if (minute <= nowMinute) continue
        for (let i = 0; i < limits.length; i++) if (minute <= (limits[i] as number)) counts[i]! += count
      }
      withinDays.forEach((days, i) => { expiring.push({ caId, withinDays: days, count: counts[i] as number }) })
    }
    return { byStatus, expiring }
  }
}
