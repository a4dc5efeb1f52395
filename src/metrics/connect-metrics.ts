/**
 * CONNECT decisions: accepted and rejected (by reason) totals, the decision latency and the
 * number of connected clients.
 *
 * An accepted CONNECT only counts itself and writes its decision time into a typed array. The
 * decision times reach prom-client's histogram in batches: when a scrape collects it, at most
 * FLUSH_MS after the first one waiting, or at once when PENDING_DECISIONS of them wait. The
 * counter and histogram updates take about 0.5 µs a CONNECT in a loop, but measured 12 µs (p50,
 * with the observer fan-out) on the CONNECT path, which runs between TLS and aedes work; a batch
 * runs in a loop (docs/benchmarks.md, "The CONNECT hook step by step"). The values a scrape
 * shows are exact, as if observed at once. Refusals, rarer, are counted at once; the per-reason
 * children are looked up once here, so a rejection allocates no label object.
 * (registry.resetMetrics(), which certmq never calls, would leave the waiting values for later.)
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { REJECT_REASONS, type RejectReason } from '../domain/connect/reasons.js'
import type { ConnectObserver, RefusedConnect } from '../auth/connect-observer.js'

/** 0.1 ms … 1 s: a known certificate is decided in well under a millisecond, a new one takes a registration write. */
export const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** Decision times held before they are handed to the histogram: 32 KiB. */
export const PENDING_DECISIONS = 4096

/**
 * How long a decision time waits at most. A batch is then a second's CONNECTs (at 500/s about
 * 0.3 ms of work), not 4096 of them at once (2–7 ms, measured), and an idle broker sets no timer.
 */
const FLUSH_MS = 1000

export class ConnectMetrics implements ConnectObserver {
  private readonly acceptedTotal: Counter.Internal
  private readonly rejectedByReason: ReadonlyMap<RejectReason, Counter.Internal>
  private readonly decision: Histogram
  private connectedClients: () => number = () => 0
  /** Accepted CONNECTs not yet added to the counter. */
  private acceptedPending = 0
  /** Decision times (seconds) not yet observed by the histogram: the first `decisionsPending`. */
  private readonly decisionTimes = new Float64Array(PENDING_DECISIONS)
  private decisionsPending = 0
  private flushTimer: NodeJS.Timeout | undefined

  constructor (registry: Registry) {
    const self = this
    this.acceptedTotal = new Counter({
      name: 'certmq_connections_accepted_total',
      help: 'MQTTS CONNECTs admitted (CONNACK 0)',
      registers: [registry],
      collect () { self.flushAccepted() }
    }).labels()
    const rejected = new Counter({
      name: 'certmq_connections_rejected_total',
      help: 'MQTTS CONNECTs refused, by reason (PRODUCT §1 reject reasons)',
      labelNames: ['reason'] as const,
      registers: [registry]
    })
    // every reason is exported from the start (at 0), so rate() and alerts work before the first refusal
    this.rejectedByReason = new Map(Object.keys(REJECT_REASONS).map((reason) => {
      const child = rejected.labels(reason)
      child.inc(0)
      return [reason as RejectReason, child]
    }))
    this.decision = new Histogram({
      name: 'certmq_connect_decision_seconds',
      help: 'Time from the CONNECT packet to the accept/reject decision (registry lookup, checks, automatic registration)',
      buckets: DECISION_BUCKETS,
      registers: [registry],
      collect () { self.flushDecisions() }
    })
    new Gauge({
      name: 'certmq_connections_current',
      help: 'MQTT clients connected to this node now',
      registers: [registry],
      collect () { this.set(self.connectedClients()) }
    })
  }

  /** Where the current-connections gauge reads from at scrape time (the broker's client count). */
  countConnectionsWith (source: () => number): void {
    this.connectedClients = source
  }

  accepted (decisionSeconds: number): void {
    this.acceptedPending++
    this.recordDecision(decisionSeconds)
  }

  rejected ({ reason }: RefusedConnect, decisionSeconds: number): void {
    this.rejectedByReason.get(reason)?.inc()
    this.recordDecision(decisionSeconds)
  }

  private recordDecision (seconds: number): void {
    if (this.decisionsPending === PENDING_DECISIONS) this.flushDecisions()
    this.decisionTimes[this.decisionsPending++] = seconds
    this.flushTimer ??= setTimeout(() => { this.flushDecisions() }, FLUSH_MS).unref()
  }

  private flushAccepted (): void {
    if (this.acceptedPending === 0) return
    this.acceptedTotal.inc(this.acceptedPending)
    this.acceptedPending = 0
  }

  private flushDecisions (): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    const times = this.decisionTimes
    const pending = this.decisionsPending
    this.decisionsPending = 0
    for (let i = 0; i < pending; i++) {
      const seconds = times[i]!
      // none is expected (differences of performance.now()); observe() would throw out of the scrape
      if (Number.isFinite(seconds)) this.decision.observe(seconds)
    }
  }
}
