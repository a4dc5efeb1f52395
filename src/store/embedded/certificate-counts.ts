/**
 * In-memory counters over the certificate records for the metrics scrape: certificates by status
 * (kept incrementally, O(1) per write) and, per CA, the expiry instant of every certificate that
 * is not revoked (a number per certificate, scanned at count time: ≈1 ms at 100k certificates,
 * so a scrape never reads LMDB). Built at open and changed only after a commit succeeds, like
 * CertificateIndexes.
 */
import { CERT_STATUSES, type CertificateRecord, type CertStatus } from '../../domain/certificate.js'
import type { CertificateCounts } from '../ports.js'

type Counted = Pick<CertificateRecord, 'id' | 'caId' | 'status' | 'notAfter'>

const DAY_MS = 86_400_000

export class CertificateCounters {
  private readonly byStatus = new Map<CertStatus, number>()
  /** CA id → certificate id → notAfter in ms, for certificates that are not revoked. */
  private readonly expiryByCa = new Map<string, Map<string, number>>()

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
    expiries.set(record.id, Date.parse(record.notAfter))
  }

  remove (record: Counted): void {
    const count = this.byStatus.get(record.status) ?? 0
    if (count <= 1) this.byStatus.delete(record.status)
    else this.byStatus.set(record.status, count - 1)
    const expiries = this.expiryByCa.get(record.caId)
    if (expiries === undefined) return
    expiries.delete(record.id)
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
   * within that many days. CAs without certificates are left out.
   */
  count (nowMs: number, withinDays: readonly number[]): CertificateCounts {
    const byStatus = Object.fromEntries(CERT_STATUSES.map((s) => [s, this.byStatus.get(s) ?? 0])) as Record<CertStatus, number>
    const limits = withinDays.map((days) => nowMs + days * DAY_MS)
    const expiring: CertificateCounts['expiring'] = []
    for (const [caId, expiries] of this.expiryByCa) {
      const counts = new Array<number>(limits.length).fill(0)
      for (const notAfterMs of expiries.values()) {
        if (notAfterMs <= nowMs) continue
        for (let i = 0; i < limits.length; i++) if (notAfterMs <= (limits[i] as number)) counts[i]!++
      }
      withinDays.forEach((days, i) => { expiring.push({ caId, withinDays: days, count: counts[i] as number }) })
    }
    return { byStatus, expiring }
  }
}
