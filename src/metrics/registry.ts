/**
 * The Prometheus registry of one certmq server. Each server owns its registry (never prom-client's
 * global one), so several servers in one process, as in the tests, do not collide. Process
 * metrics (CPU, memory, event loop lag, GC) come from prom-client's default collectors.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

export const METRIC_PREFIX = 'certmq_'

/** Resolution of the event-loop delay metrics (certmq_nodejs_eventloop_lag_*), ms. */
const EVENT_LOOP_PRECISION_MS = 50

export function createMetricsRegistry (): Registry {
  const registry = new Registry()
  // the event-loop delay is sampled every 50 ms rather than prom-client's 10: a 10 ms timer woke
  // an idle broker 100 times a second (most of its idle CPU); lag worth an alert lasts longer
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS })
  return registry
}
