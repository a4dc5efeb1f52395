/**
 * The Prometheus registry of one certmq server. Each server owns its registry (never prom-client's
 * global one), so several servers in one process, as in the tests, do not collide. Process
 * metrics (CPU, memory, event loop lag, GC) come from prom-client's default collectors.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

export const METRIC_PREFIX = 'certmq_'

export function createMetricsRegistry (): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })
  return registry
}
