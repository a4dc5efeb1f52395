/**
 * CONNECT decisions: accepted and rejected (by reason) totals, the decision latency and the
 * number of connected clients. On the hot path only a counter increment and one histogram
 * observation happen: the per-reason children are looked up once here, so a rejection allocates
 * no label object.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { REJECT_REASONS, type RejectReason } from '../domain/connect/reasons.js'
import type { ConnectObserver, RefusedConnect } from '../auth/connect-observer.js'

/** 0.1 ms … 1 s: a known certificate is decided in well under a millisecond, a new one takes a registration write. */
export const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

export class ConnectMetrics implements ConnectObserver {
  private readonly acceptedTotal: Counter.Internal
  private readonly rejectedByReason: ReadonlyMap<RejectReason, Counter.Internal>
  private readonly decision: Histogram
  private connectedClients: () => number = () => 0

  constructor (registry: Registry) {
    this.acceptedTotal = new Counter({
      name: 'certmq_connections_accepted_total',
      help: 'MQTTS CONNECTs admitted (CONNACK 0)',
      registers: [registry]
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
      registers: [registry]
    })
    const self = this
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
    this.acceptedTotal.inc()
    this.decision.observe(decisionSeconds)
  }

  rejected ({ reason }: RefusedConnect, decisionSeconds: number): void {
    this.rejectedByReason.get(reason)?.inc()
    this.decision.observe(decisionSeconds)
  }
}
