/**
 * The in-memory projection of the embedded store's certificates (STYLE §6: indexes built at start
 * so search stays fast at 100k+ certificates): one CertificateSummary per certificate, one array
 * per order key (id, createdAt, updatedAt, notAfter, commonName) kept sorted ascending by
 * (value, id), and the exact indexes the store's rules need (Client ID → id, CA → ids) with the
 * count per status. A search filters the summaries in the requested order and the store then
 * reads only the page's records from LMDB; the metrics' counts come from the same summaries.
 *
 * Because every write of the embedded store runs in one synchronous LMDB transaction and this
 * process is the only writer, it is built at open and changed only after a commit succeeds, so
 * it equals the committed state whenever a transaction or call starts. Repeated strings (CA ids,
 * OUs) are shared to keep 100k summaries small.
 */
import { CERT_STATUSES, type CertificateRecord, type CertStatus } from '../../domain/certificate.js'
import {
  commonNamePrefix, compareAscending, DAY_MS, ORDER_KEYS, summarizeCertificate, type CertificatePage, type CertificateQuery, type CertificateSummary, type OrderKey
} from '../../domain/query.js'
import { compileCertificateQuery, takeSummaryPage, type CompiledCertificateQuery } from '../../domain/query-compile.js'
import type { CertificateCounts } from '../ports.js'

/** A candidate set this small (vs. all certificates) is sorted on its own instead of walking an order. */
const SMALL_CANDIDATE_RATIO = 0.1
/** From this many ids on, removeAll filters each order once (a splice costs up to ~0.1 ms per order at 100k). */
const BULK_REMOVE_FROM = 32

export class CertificateProjection {
  private readonly byId = new Map<string, CertificateSummary>()
  private readonly orders = new Map<OrderKey, CertificateSummary[]>()
  private readonly compare = new Map<OrderKey, (a: CertificateSummary, b: CertificateSummary) => number>(
    ORDER_KEYS.map((key) => [key, compareAscending(key)]))
  private readonly strings = new Map<string, string>()
  private readonly idByClientId = new Map<string, string>()
  private readonly idsByCa = new Map<string, Set<string>>()
  private readonly byStatus = new Map<CertStatus, number>()

  get size (): number {
    return this.byId.size
  }

  /** Every summary, in no particular order. */
  summaries (): IterableIterator<CertificateSummary> {
    return this.byId.values()
  }

  /** Replaces the contents with the given records (open / reopen). */
  rebuild (records: Iterable<CertificateRecord>): void {
    this.clear()
    for (const record of records) this.index(this.summarize(record))
    const all = [...this.byId.values()]
    for (const key of ORDER_KEYS) this.orders.set(key, [...all].sort(this.comparator(key)))
  }

  clear (): void {
    this.byId.clear()
    this.orders.clear()
    this.strings.clear()
    this.idByClientId.clear()
    this.idsByCa.clear()
    this.byStatus.clear()
  }

  /** The id of the certificate registered with `clientId`, if any. */
  idOfClientId (clientId: string): string | undefined {
    return this.idByClientId.get(clientId)
  }

  /** Ids of the certificates under CA `caId`, unordered. */
  idsOfCa (caId: string): ReadonlySet<string> {
    return this.idsByCa.get(caId) ?? new Set()
  }

  /**
   * Certificates by status (every status, zero when none) and, per CA that has certificates and
   * for each of `withinDays`, those not revoked and not expired at `nowMs` (a certificate is valid
   * through its notAfter, as search's `expired` says) whose notAfter is at most that many days
   * ahead. Walks only that stretch of the notAfter order.
   */
  counts (nowMs: number, withinDays: readonly number[]): CertificateCounts {
    const byStatus = Object.fromEntries(CERT_STATUSES.map((s) => [s, this.byStatus.get(s) ?? 0])) as Record<CertStatus, number>
    const limits = withinDays.map((days) => nowMs + days * DAY_MS)
    const last = Math.max(nowMs, ...limits)
    const perCa = new Map<string, number[]>([...this.idsByCa.keys()].map((caId) => [caId, limits.map(() => 0)]))
    const order = this.order('notAfter')
    for (let i = this.boundary(order, (s) => s.notAfter < nowMs); i < order.length; i++) {
      const summary = order[i] as CertificateSummary
      if (summary.notAfter > last) break
      if (summary.status === 'revoked') continue
      const counts = perCa.get(summary.caId) as number[]
      limits.forEach((limit, j) => { if (summary.notAfter <= limit) counts[j]!++ })
    }
    const expiring = [...perCa].flatMap(([caId, counts]) => withinDays.map((days, j) => ({ caId, withinDays: days, count: counts[j] as number })))
    return { byStatus, expiring }
  }

  /** Adds a record, or replaces the summary of one already there (status change). */
  put (record: CertificateRecord): void {
    this.remove(record.id)
    const summary = this.summarize(record)
    this.index(summary)
    for (const key of ORDER_KEYS) {
      const order = this.order(key)
      order.splice(this.upperBound(order, summary, key), 0, summary)
    }
  }

  /** Removes many at once (a CA deleted with its certificates): one filter pass per order instead of a splice per id. */
  removeAll (ids: readonly string[]): void {
    if (ids.length < BULK_REMOVE_FROM) {
      for (const id of ids) this.remove(id)
      return
    }
    const gone = new Set<CertificateSummary>()
    for (const id of ids) {
      const summary = this.byId.get(id)
      if (summary === undefined) continue
      gone.add(summary)
      this.unindex(summary)
    }
    for (const key of ORDER_KEYS) this.orders.set(key, this.order(key).filter((summary) => !gone.has(summary)))
  }

  remove (id: string): void {
    const summary = this.byId.get(id)
    if (summary === undefined) return
    this.unindex(summary)
    for (const key of ORDER_KEYS) {
      const order = this.order(key)
      const at: number = this.upperBound(order, summary, key) - 1
      if (order[at] === summary) order.splice(at, 1)
    }
  }

  /**
   * One page of ids in result order, the total of matches and the next cursor. Throws
   * VALIDATION_FAILED for a bad query (limit, cursor, dates).
   */
  search (query: CertificateQuery): CertificatePage<string> {
    const compiled = compileCertificateQuery(query)
    const { ordered, total } = this.ordered(query, compiled, this.candidateIds(query))
    const page = takeSummaryPage(ordered, compiled, total)
    return { items: page.items.map((summary) => summary.id), total: page.total, nextCursor: page.nextCursor }
  }

  /**
   * Summaries that can match, in result order: the smallest of the candidate sets the query
   * allows (ids from an exact index, the notAfter range, the common-name range), walked directly
   * when it is a slice of the requested order, else sorted; the whole order when none is small.
   */
  private ordered (query: CertificateQuery, compiled: CompiledCertificateQuery, candidates: Iterable<string> | undefined):
    { ordered: Iterable<CertificateSummary>, total?: number } {
    let best: { key: OrderKey, from: number, to: number } | undefined
    const consider = (key: OrderKey, from: number, to: number): void => {
      if (best === undefined || to - from < best.to - best.from) best = { key, from, to }
    }
    const { from: notAfterFrom, to: notAfterTo } = compiled.notAfter
    if (notAfterFrom !== undefined || notAfterTo !== undefined) {
      const order = this.order('notAfter')
      const from = notAfterFrom === undefined ? 0 : this.boundary(order, (s) => s.notAfter < notAfterFrom)
      const to = notAfterTo === undefined ? order.length : this.boundary(order, (s) => s.notAfter <= notAfterTo)
      consider('notAfter', from, Math.max(from, to))
    }
    const cn = query.commonName
    if (cn !== undefined && cn !== '*') {
      const order = this.order('commonName')
      const prefix = commonNamePrefix(cn)
      const from = this.boundary(order, (s) => s.commonName < (prefix ?? cn))
      const to = prefix === undefined
        ? this.boundary(order, (s) => s.commonName <= cn)
        : this.boundary(order, (s) => s.commonName < prefix || s.commonName.startsWith(prefix))
      consider('commonName', from, Math.max(from, to))
    }
    const size = this.byId.size
    if (candidates !== undefined) {
      const ids = [...candidates]
      if (best === undefined || ids.length < best.to - best.from) {
        if (ids.length <= Math.max(1, size * SMALL_CANDIDATE_RATIO)) return { ordered: this.sorted(ids.map((id) => this.byId.get(id)), compiled) }
      }
    }
    if (best !== undefined && best.key === compiled.orderKey) return this.walk(this.order(best.key), best.from, best.to, compiled)
    if (best !== undefined && best.to - best.from <= size * SMALL_CANDIDATE_RATIO) {
      return { ordered: this.sorted(this.order(best.key).slice(best.from, best.to), compiled) }
    }
    const order = this.order(compiled.orderKey)
    return this.walk(order, 0, order.length, compiled)
  }

  /** Every id that can match when the query names an exact index (Client ID, CA); undefined otherwise. */
  private candidateIds (query: CertificateQuery): Iterable<string> | undefined {
    if (query.clientId !== undefined) {
      const id = this.idByClientId.get(query.clientId)
      return id === undefined ? [] : [id]
    }
    if (query.caId !== undefined) return this.idsOfCa(query.caId)
    return undefined
  }

  /** The matching ones of `summaries`, in result order. Numeric keys sort on a typed copy: no pointer chasing per comparison. */
  private sorted (summaries: Array<CertificateSummary | undefined>, compiled: CompiledCertificateQuery): CertificateSummary[] {
    const list = summaries.filter((s): s is CertificateSummary => s !== undefined && compiled.matches(s))
    const key = compiled.orderKey
    if (key === 'id' || key === 'commonName') return list.sort(compiled.compare)
    const values = Float64Array.from(list, (s) => s[key])
    const sign = compiled.descending ? -1 : 1
    const positions = Array.from(list.keys()).sort((a, b) => {
      const byValue = (values[a] as number) - (values[b] as number)
      if (byValue !== 0) return sign * byValue
      const idA = (list[a] as CertificateSummary).id
      const idB = (list[b] as CertificateSummary).id
      return sign * (idA < idB ? -1 : idA > idB ? 1 : 0)
    })
    return positions.map((i) => list[i] as CertificateSummary)
  }

  /**
   * order[from, to) in the result direction, starting right after the cursor (found by binary
   * search), with the total of matches over the whole range: the range length when nothing is
   * filtered, else one pass of the predicate.
   */
  private walk (order: readonly CertificateSummary[], from: number, to: number, compiled: CompiledCertificateQuery):
    { ordered: Iterable<CertificateSummary>, total: number } {
    let total = to - from
    if (!compiled.matchesAll) {
      total = 0
      for (let i = from; i < to; i++) if (compiled.matches(order[i] as CertificateSummary)) total++
    }
    const after = compiled.after
    let start = compiled.descending ? to - 1 : from
    if (after !== undefined) {
      const key = compiled.orderKey
      const position = (s: CertificateSummary): number => {
        const value = s[key]
        return value < after.value ? -1 : value > after.value ? 1 : s.id < after.id ? -1 : s.id > after.id ? 1 : 0
      }
      const cut = compiled.descending
        ? this.boundary(order, (s) => position(s) < 0) - 1
        : this.boundary(order, (s) => position(s) <= 0)
      start = compiled.descending ? Math.min(cut, to - 1) : Math.max(cut, from)
    }
    const descending = compiled.descending
    function * ordered (): Generator<CertificateSummary> {
      if (descending) {
        for (let i = start; i >= from; i--) yield order[i] as CertificateSummary
      } else {
        for (let i = start; i < to; i++) yield order[i] as CertificateSummary
      }
    }
    return { ordered: ordered(), total }
  }

  /** First index where `before` is false; `before` must hold for a prefix of `order` only. */
  private boundary (order: readonly CertificateSummary[], before: (s: CertificateSummary) => boolean): number {
    let low = 0
    let high = order.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (before(order[mid] as CertificateSummary)) low = mid + 1
      else high = mid
    }
    return low
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

  private index (summary: CertificateSummary): void {
    this.byId.set(summary.id, summary)
    if (summary.clientId !== null) this.idByClientId.set(summary.clientId, summary.id)
    let ids = this.idsByCa.get(summary.caId)
    if (ids === undefined) this.idsByCa.set(summary.caId, ids = new Set())
    ids.add(summary.id)
    this.byStatus.set(summary.status, (this.byStatus.get(summary.status) ?? 0) + 1)
  }

  private unindex (summary: CertificateSummary): void {
    this.byId.delete(summary.id)
    if (summary.clientId !== null && this.idByClientId.get(summary.clientId) === summary.id) this.idByClientId.delete(summary.clientId)
    const ids = this.idsByCa.get(summary.caId)
    ids?.delete(summary.id)
    if (ids?.size === 0) this.idsByCa.delete(summary.caId)
    this.byStatus.set(summary.status, (this.byStatus.get(summary.status) ?? 1) - 1)
  }

  private summarize (record: CertificateRecord): CertificateSummary {
    const summary = summarizeCertificate(record)
    // Strings as lmdb decodes them are slices of one string per record, PEM included: keeping
    // any of them keeps ~1 KB alive (100k summaries: 110 MB instead of 45 MB), and they compare
    // several times slower (100k exact common-name checks: 21 ms vs 4.5 ms). Copy every one.
    summary.id = flat(summary.id)
    summary.commonName = flat(summary.commonName)
    summary.serialNumber = flat(summary.serialNumber)
    if (summary.clientId !== null) summary.clientId = flat(summary.clientId)
    summary.caId = this.intern(summary.caId)
    summary.organizationalUnit = this.intern(summary.organizationalUnit)
    summary.status = this.intern(summary.status) as CertificateSummary['status']
    summary.source = this.intern(summary.source) as CertificateSummary['source']
    return summary
  }

  private intern (value: string): string {
    const known = this.strings.get(value)
    if (known !== undefined) return known
    const copy = flat(value)
    this.strings.set(copy, copy)
    return copy
  }
}

/**
 * A fresh sequential copy of `value`. A slice of a longer string would stay a view into it
 * (V8 SlicedString from 13 characters on); JSON.parse allocates new flat strings.
 */
function flat (value: string): string {
  return JSON.parse(JSON.stringify(value)) as string
}
