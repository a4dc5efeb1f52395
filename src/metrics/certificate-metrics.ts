/**
 * Certificate gauges, computed at scrape time from the store's counters (countCertificates is
 * in-memory in the embedded store, ≈1 ms at 100k certificates): certificates by status, and per
 * CA those that are not revoked and expire within 7 or 30 days.
 */
import { Gauge, type Registry } from 'prom-client'
import type { RegistryStore } from '../store/ports.js'

export const EXPIRY_WINDOWS_DAYS = [7, 30] as const

export function registerCertificateMetrics (registry: Registry, store: Pick<RegistryStore, 'countCertificates'>, now: () => Date): void {
  // both gauges come from one count per scrape
  let pending: ReturnType<RegistryStore['countCertificates']> | undefined
  const counts = async (): ReturnType<RegistryStore['countCertificates']> => {
    pending ??= store.countCertificates(now().toISOString(), EXPIRY_WINDOWS_DAYS).finally(() => { pending = undefined })
    return await pending
  }
  new Gauge({
    name: 'certmq_certificates',
    help: 'Registered device certificates by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect () {
      const { byStatus } = await counts()
      for (const [status, count] of Object.entries(byStatus)) this.labels(status).set(count)
    }
  })
  new Gauge({
    name: 'certmq_certificates_expiring',
    help: 'Certificates that are not revoked and expire within `within_days` days, per CA',
    labelNames: ['ca_id', 'within_days'] as const,
    registers: [registry],
    async collect () {
      const { expiring } = await counts()
      // a deleted CA must disappear, not keep its last value
      this.reset()
      for (const { caId, withinDays, count } of expiring) this.labels(caId, String(withinDays)).set(count)
    }
  })
}
