/**
 * Automatic registration (PRODUCT §1.3): registrations made, attempts the rate limiter refused,
 * and the limiter's configured rate, so a dashboard can show the refusals against the limit.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { RegistrationObserver } from '../auth/connect-observer.js'
import type { CertificateRecord } from '../domain/certificate.js'

export class RegistrationMetrics implements RegistrationObserver {
  private readonly registered: Counter
  private readonly limited: Counter

  constructor (registry: Registry, maxPerSecond: number) {
    this.registered = new Counter({
      name: 'certmq_auto_registrations_total',
      help: 'Certificates registered automatically at their first CONNECT',
      registers: [registry]
    })
    this.limited = new Counter({
      name: 'certmq_auto_registrations_rate_limited_total',
      help: 'Automatic registration attempts refused by the rate limiter (CONNACK 3)',
      registers: [registry]
    })
    new Gauge({
      name: 'certmq_auto_registration_limit_per_second',
      help: 'Configured maximum of automatic registrations in any sliding second (autoRegistration.maxPerSecond)',
      registers: [registry]
    }).set(maxPerSecond)
  }

  autoRegistered (_record: CertificateRecord): void {
    this.registered.inc()
  }

  rateLimited (): void {
    this.limited.inc()
  }
}
