/** ConnectMetrics hands accepted CONNECTs and decision times to prom-client in batches: a scrape must still show exact values. */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { ConnectMetrics, DECISION_BUCKETS, PENDING_DECISIONS } from '../../../src/metrics/connect-metrics.js'
import { parseExposition } from '../../helpers/prometheus.js'

async function scrape (registry: Registry): Promise<Map<string, number>> {
  return parseExposition(await registry.metrics())
}

describe('ConnectMetrics', () => {
  it('shows every decision at the next scrape, across more decisions than it holds back, with exact buckets, sum and count', async () => {
    const registry = new Registry()
    const metrics = new ConnectMetrics(registry)
    const accepted = PENDING_DECISIONS * 2 + 5
    // a quarter each at 0.05, 0.2, 0.4 and 3 ms: four different buckets
    const times = [0.00005, 0.0002, 0.0004, 0.003]
    let sum = 0
    for (let i = 0; i < accepted; i++) {
      metrics.accepted(times[i % 4]!)
      sum += times[i % 4]!
    }
    metrics.rejected({ reason: 'revoked' }, 0.0002)
    metrics.rejected({ reason: 'unregistered' }, 0.02)
    sum += 0.0002 + 0.02

    const samples = await scrape(registry)
    expect(samples.get('certmq_connections_accepted_total')).toBe(accepted)
    expect(samples.get('certmq_connections_rejected_total{reason="revoked"}')).toBe(1)
    expect(samples.get('certmq_connections_rejected_total{reason="unregistered"}')).toBe(1)
    expect(samples.get('certmq_connect_decision_seconds_count')).toBe(accepted + 2)
    expect(samples.get('certmq_connect_decision_seconds_sum')).toBeCloseTo(sum, 9)
    const share = (i: number): number => Math.floor(accepted / 4) + (i < accepted % 4 ? 1 : 0)
    expect(DECISION_BUCKETS.slice(0, 3)).toEqual([0.0001, 0.00025, 0.0005])
    expect(samples.get('certmq_connect_decision_seconds_bucket{le="0.0001"}')).toBe(share(0))
    expect(samples.get('certmq_connect_decision_seconds_bucket{le="0.00025"}')).toBe(share(0) + share(1) + 1)
    expect(samples.get('certmq_connect_decision_seconds_bucket{le="0.0005"}')).toBe(share(0) + share(1) + 1 + share(2))
    expect(samples.get('certmq_connect_decision_seconds_bucket{le="0.0025"}')).toBe(share(0) + share(1) + 1 + share(2))
    expect(samples.get('certmq_connect_decision_seconds_bucket{le="0.005"}')).toBe(accepted + 1)
    expect(samples.get('certmq_connect_decision_seconds_bucket{le="+Inf"}')).toBe(accepted + 2)
  })

  it('counts a decision once however often it is scraped, and what came between scrapes at the next one', async () => {
    const registry = new Registry()
    const metrics = new ConnectMetrics(registry)
    metrics.accepted(0.0003)
    expect((await scrape(registry)).get('certmq_connect_decision_seconds_count')).toBe(1)
    expect((await scrape(registry)).get('certmq_connections_accepted_total')).toBe(1)
    metrics.accepted(0.0003)
    metrics.accepted(0.0003)
    const json = await registry.getMetricsAsJSON()
    const accepted = json.find((m) => m.name === 'certmq_connections_accepted_total')
    expect(accepted?.values[0]?.value).toBe(3)
    const after = await scrape(registry)
    expect(after.get('certmq_connect_decision_seconds_count')).toBe(3)
    expect(after.get('certmq_connections_accepted_total')).toBe(3)
  })
})
