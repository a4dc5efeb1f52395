/**
 * All metrics of one server, on its own registry: server.ts creates one CertmqMetrics and hands
 * its parts to the CONNECT path, the store and the admin API (GET /metrics).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { ConnectObserver, RegistrationObserver } from '../auth/connect-observer.js'
import type { RegistryStore } from '../store/ports.js'
import { DISCARD_REASONS, type DiscardReason } from '../broker/session-owners.js'
import { registerCertificateMetrics } from './certificate-metrics.js'
import { ConnectMetrics } from './connect-metrics.js'
import { registerCrlMetrics } from './crl-metrics.js'
import { RegistrationMetrics } from './registration-metrics.js'
import { createMetricsRegistry } from './registry.js'
import { instrumentStore } from './store-metrics.js'

export class CertmqMetrics {
  readonly registry: Registry = createMetricsRegistry()
  readonly connect = new ConnectMetrics(this.registry)
  readonly registration: RegistrationMetrics
  private readonly tlsNotAfter = new Gauge({
    name: 'certmq_mqtts_certificate_not_after_timestamp_seconds',
    help: 'notAfter of the MQTTS server certificate being served (Unix seconds): alert well before it passes',
    registers: [this.registry]
  })

  private readonly droppedQueueFull = new Counter({
    name: 'certmq_messages_dropped_total',
    help: 'Messages not delivered by the broker, by reason; queue_full: not queued for an offline client whose queue held sessions.maxQueuedMessages',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  }).labels('queue_full')

  private readonly sessionsDiscarded = new Counter({
    name: 'certmq_sessions_discarded_total',
    help: 'Persistent sessions discarded with their subscriptions and queued messages (one that held neither is not counted), by reason: certificate_revoked, certificate_deleted, expired (away for sessions.expirySeconds)',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  private awaySessions: () => number = () => 0

  constructor (options: { autoRegistrationPerSecond: number }) {
    // exported from the start (at 0), as the refusal reasons are: a label child alone shows
    // nothing until its first inc, and increase() misses that first one
    this.droppedQueueFull.inc(0)
    for (const reason of DISCARD_REASONS) this.sessionsDiscarded.labels(reason).inc(0)
    const self = this
    new Gauge({
      name: 'certmq_sessions_away',
      help: 'Clients that left with a persistent session (clean=false) and have neither come back nor expired: their subscriptions are kept and QoS 1/2 messages queued for them',
      registers: [this.registry],
      collect () { this.set(self.awaySessions()) }
    })

    this.registration = new RegistrationMetrics(this.registry, options.autoRegistrationPerSecond)
  }

  /** What the CONNECT path reports to, for metrics: decisions and automatic registrations. */
  get connectObserver (): ConnectObserver & RegistrationObserver {
    return {
      accepted: (seconds) => { this.connect.accepted(seconds) },
      rejected: (refused, seconds) => { this.connect.rejected(refused, seconds) },
      autoRegistered: (record) => { this.registration.autoRegistered(record) },
      rateLimited: () => { this.registration.rateLimited() }
    }
  }

  /** A message not queued for an offline client with a full queue. */
  messageDroppedQueueFull (): void {
    this.droppedQueueFull.inc()
  }

  /** A persistent session was discarded. */
  sessionDiscarded (reason: DiscardReason): void {
    this.sessionsDiscarded.labels(reason).inc()
  }

  /** Where the away-sessions gauge reads from. */
  countAwaySessionsWith (count: () => number): void {
    this.awaySessions = count
  }

  /** The served MQTTS certificate's notAfter, set at start and after each renewal or reload. */
  serverCertificateExpiry (notAfterSeconds: number): void {
    this.tlsNotAfter.set(notAfterSeconds)
  }

  /** The store, timed per operation, with the certificate and CRL gauges reading from it. */
  instrumentStore<T extends RegistryStore> (store: T, now: () => Date): T {
    const timed = instrumentStore(store, this.registry)
    registerCertificateMetrics(this.registry, timed, now)
    registerCrlMetrics(this.registry, timed, now)
    return timed
  }
}
