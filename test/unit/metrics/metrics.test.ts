/** CertmqMetrics: the counters of the broker, exported at 0 before their first increment. */
import { describe, expect, it } from 'vitest'
import { CertmqMetrics } from '../../../src/metrics/metrics.js'
import { parseExposition } from '../../helpers/prometheus.js'

describe('CertmqMetrics', () => {
  it('exports the session and queue counters at 0 from the start, so rate() and increase() see their first increment', async () => {
    const metrics = new CertmqMetrics({ autoRegistrationPerSecond: 15 })
    const before = parseExposition(await metrics.registry.metrics())
    expect(before.get('certmq_messages_dropped_total{reason="queue_full"}')).toBe(0)
    for (const reason of ['certificate_revoked', 'certificate_deleted', 'expired']) {
      expect(before.get(`certmq_sessions_discarded_total{reason="${reason}"}`), reason).toBe(0)
    }
    metrics.sessionDiscarded('expired')
    metrics.messageDroppedQueueFull()
    const after = parseExposition(await metrics.registry.metrics())
    expect(after.get('certmq_sessions_discarded_total{reason="expired"}')).toBe(1)
    expect(after.get('certmq_messages_dropped_total{reason="queue_full"}')).toBe(1)
  })
})
