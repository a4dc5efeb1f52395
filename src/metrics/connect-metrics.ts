/**
 * CONNECT decisions: accepted and rejected (by reason) totals, the decision latency and the
 * number of connected clients.
 *
 * An accepted CONNECT only counts itself and writes its decision time into a typed array. The
 * decision times reach prom-client's histogram in batches: when a scrape collects it, or when
 * PENDING_DECISIONS of them wait. prom-client's observe() costs about 0.5 µs in a tight loop but
 * 10-15 µs on the CONNECT path, where its code and data are cold (measured on the 2-core VM of
 * docs/benchmarks.md); a batch runs warm. The values a scrape shows are exact, as if observed at
 * once. Refusals, rarer, are counted at once; the per-reason children are looked up once here,
 * so a rejection allocates no label object.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { REJECT_REASONS, type RejectReason } from '../domain/connect/reasons.js'
import type { ConnectObserver, RefusedConnect } from '../auth/connect-observer.js'

/** 0.1 ms … 1 s: a known certificate is decided in well under a millisecond, a new one takes a registration write. */
export const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** Decision times held before they are handed to the histogram: 32 KiB. */
export const PENDING_DECISIONS = 4096

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
  }

  private flushAccepted (): void {
    if (this.acceptedPending === 0) return
    this.acceptedTotal.inc(this.acceptedPending)
    this.acceptedPending = 0
  }

  private flushDecisions (): void {
    const times = this.decisionTimes
    const pending = this.decisionsPending
    // emptied first: a throwing observe() must not make every later scrape replay the batch
    this.decisionsPending = 0
    for (let i = 0; i < pending; i++) {
      const seconds = times[i]!
      if (Number.isFinite(seconds)) this.decision.observe(seconds)
    }
  }
}
