/**
 * Revocation-list gauges per CA, read at scrape time from the CA records (a few dozen at most):
 * serials in force, when the CRL in force says the next one is due, whether that time has passed
 * (stale), and whether the last import was refused (the CRL in force stayed). Alert on
 * `certmq_crl_stale == 1` or `certmq_crl_last_import_failed == 1`.
 */
import { Gauge, type Registry } from 'prom-client'
import type { RegistryStore } from '../store/ports.js'

export function registerCrlMetrics (registry: Registry, store: Pick<RegistryStore, 'listCas'>, now: () => Date): void {
  let pending: ReturnType<RegistryStore['listCas']> | undefined
  const cas = async (): ReturnType<RegistryStore['listCas']> => {
    pending ??= store.listCas().finally(() => { pending = undefined })
    return await pending
  }
  const perCa = (name: string, help: string, value: (crl: NonNullable<Awaited<ReturnType<typeof cas>>[number]['crl']>, nowMs: number) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['ca_id'] as const,
      registers: [registry],
      async collect () {
        this.reset()
        const nowMs = now().getTime()
        for (const ca of await cas()) {
          if (ca.crl === undefined) continue
          const v = value(ca.crl, nowMs)
          if (v !== undefined) this.labels(ca.id).set(v)
        }
      }
    })
  }
  perCa('certmq_crl_revoked_serials', 'Serials on the CRL in force for the CA', (crl) => crl.importedAt === null ? undefined : crl.revokedCount)
  perCa('certmq_crl_next_update_timestamp_seconds', 'nextUpdate of the CRL in force (Unix seconds)',
    (crl) => crl.nextUpdate === null ? undefined : Date.parse(crl.nextUpdate) / 1000)
  perCa('certmq_crl_stale', '1 when the CRL in force is past its nextUpdate: import a newer one',
    (crl, nowMs) => crl.importedAt === null ? undefined : (crl.nextUpdate !== null && Date.parse(crl.nextUpdate) < nowMs ? 1 : 0))
  perCa('certmq_crl_last_import_failed', '1 when the latest CRL import for the CA was refused (the previous CRL, if any, stays in force)',
    (crl) => crl.lastError === undefined ? 0 : (crl.importedAt === null || crl.lastError.at >= crl.importedAt ? 1 : 0))
}
