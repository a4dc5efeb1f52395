/**
 * The in-memory search projection of the embedded store (STYLE §6: indexes built at start so
 * search stays fast at 100k+ certificates): one CertificateSummary per certificate, plus one
 * array per order key (id, createdAt, updatedAt, notAfter, commonName) kept sorted ascending by
 * (value, id). A search filters the summaries in the requested order and the store then reads
 * only the page's records from LMDB.
 *
 * Like CertificateIndexes it is built at open and changed only after a commit succeeds, so it
 * equals the committed state whenever a call starts. Repeated strings (CA ids, OUs) are shared
 * to keep 100k summaries small.
 */
import type { CertificateRecord } from '../../domain/certificate.js'
import {
  compareAscending, compileCertificateQuery, ORDER_KEYS, summarizeCertificate, takeSummaryPage,
  type CertificatePage, type CertificateQuery, type CertificateSummary, type CompiledCertificateQuery, type OrderKey
} from '../../domain/query.js'

/** A candidate set this small (vs. all certificates) is sorted on its own instead of walking an order. */
const SMALL_CANDIDATE_RATIO = 0.1

export class CertificateProjection {
  private readonly byId = new Map<string, CertificateSummary>()
  private readonly orders = new Map<OrderKey, CertificateSummary[]>()
  private readonly compare = new Map<OrderKey, (a: CertificateSummary, b: CertificateSummary) => number>(
    ORDER_KEYS.map((key) => [key, compareAscending(key)]))
  private readonly strings = new Map<string, string>()

  get size (): number {
    return this.byId.size
  }

  /** Replaces the contents with the given records (open / reopen). */
  rebuild (records: Iterable<CertificateRecord>): void {
    this.clear()
    for (const record of records) this.byId.set(record.id, this.summarize(record))
    const all = [...this.byId.values()]
    for (const key of ORDER_KEYS) this.orders.set(key, [...all].sort(this.comparator(key)))
  }

  clear (): void {
    this.byId.clear()
    this.orders.clear()
    this.strings.clear()
  }

  /** Adds a record, or replaces the summary of one already there (status change). */
  put (record: CertificateRecord): void {
    this.remove(record.id)
    const summary = this.summarize(record)
    this.byId.set(summary.id, summary)
    for (const key of ORDER_KEYS) {
      const order = this.order(key)
      order.splice(this.upperBound(order, summary, key), 0, summary)
    }
  }

  remove (id: string): void {
    const summary = this.byId.get(id)
    if (summary === undefined) return
    this.byId.delete(id)
    for (const key of ORDER_KEYS) {
      const order = this.order(key)
      const at: number = this.upperBound(order, summary, key) - 1
      if (order[at] === summary) order.splice(at, 1)
    }
  }

  /**
   * One page of ids in result order, the total of matches and the next cursor. Throws
   * VALIDATION_FAILED for a bad query (limit, cursor, dates). `candidates`, when given, holds every
   * id that can match (from an exact index such as Client ID or CA).
   */
  search (query: CertificateQuery, candidates?: Iterable<string>): CertificatePage<string> {
    const compiled = compileCertificateQuery(query)
    const page = takeSummaryPage(this.ordered(compiled, candidates), compiled)
    return { items: page.items.map((summary) => summary.id), total: page.total, nextCursor: page.nextCursor }
  }

  private * ordered (compiled: CompiledCertificateQuery, candidates: Iterable<string> | undefined): Generator<CertificateSummary> {
    if (candidates !== undefined) {
      const ids = [...candidates]
      if (ids.length <= Math.max(1, this.byId.size * SMALL_CANDIDATE_RATIO)) {
        const summaries: CertificateSummary[] = []
        for (const id of ids) {
          const summary = this.byId.get(id)
          if (summary !== undefined) summaries.push(summary)
        }
        yield * summaries.sort(compiled.compare)
        return
      }
    }
    const order = this.order(compiled.orderKey)
    if (compiled.descending) {
      for (let i = order.length - 1; i >= 0; i--) yield order[i] as CertificateSummary
    } else {
      yield * order
    }
  }

  private order (key: OrderKey): CertificateSummary[] {
    let order = this.orders.get(key)
    if (order === undefined) {
      order = []
      this.orders.set(key, order)
    }
    return order
  }

  private comparator (key: OrderKey): (a: CertificateSummary, b: CertificateSummary) => number {
    return this.compare.get(key) as (a: CertificateSummary, b: CertificateSummary) => number
  }

  /** Index of the first element ordered strictly after `summary` under `key`. */
  private upperBound (order: readonly CertificateSummary[], summary: CertificateSummary, key: OrderKey): number {
    const compare = this.comparator(key)
    let low = 0
    let high = order.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (compare(order[mid] as CertificateSummary, summary) <= 0) low = mid + 1
      else high = mid
    }
    return low
  }

  private summarize (record: CertificateRecord): CertificateSummary {
    const summary = summarizeCertificate(record)
    summary.caId = this.intern(summary.caId)
    summary.organizationalUnit = this.intern(summary.organizationalUnit)
    summary.status = this.intern(summary.status) as CertificateSummary['status']
    summary.source = this.intern(summary.source) as CertificateSummary['source']
    return summary
  }

  private intern (value: string): string {
    const known = this.strings.get(value)
    if (known !== undefined) return known
    this.strings.set(value, value)
    return value
  }
}
