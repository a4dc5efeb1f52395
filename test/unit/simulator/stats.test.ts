import { describe, expect, it } from 'vitest'
import { SimulationStats } from '../../../src/simulator/stats.js'

describe('SimulationStats', () => {
  it('counts attempts, acceptances, refusals by CONNACK code and failures by kind', () => {
    const stats = new SimulationStats(3, 0)
    for (let i = 0; i < 6; i++) stats.attempt()
    stats.rejected(5)
    stats.rejected(3)
    stats.rejected(5)
    stats.failed('timeout')
    stats.connected(0, 2, false, 100)
    stats.connected(1, 4, true, 200)
    const s = stats.summary(1000)
    expect(s.connect).toMatchObject({
      attempts: 6,
      accepted: 2,
      rejectedByCode: { 3: 1, 5: 2 },
      failures: { tls: 0, timeout: 1, closed: 0, error: 0 },
      tlsResumed: 1
    })
    expect(Object.keys(s.connect.rejectedByCode)).toEqual(['3', '5'])
  })

  it('measures connects per second until every device has connected once, reconnects not counted twice', () => {
    const stats = new SimulationStats(2, 1000)
    stats.connected(0, 1, false, 1500)
    stats.connected(0, 1, false, 1600) // the same device again after a drop
    expect(stats.connectedDevices).toBe(1)
    stats.connected(1, 1, false, 2000)
    const s = stats.summary(9000)
    expect(s.connect.firstConnectSeconds).toBe(1)
    expect(s.connect.perSecond).toBe(2)
    expect(s.connect.accepted).toBe(3)
    expect(s.durationSeconds).toBe(8)
  })

  it('reports the devices that never connected by measuring until the end', () => {
    const stats = new SimulationStats(2, 0)
    stats.connected(0, 1, false, 500)
    const s = stats.summary(4000)
    expect(s.connect.firstConnectSeconds).toBe(4)
    expect(s.connect.perSecond).toBe(0.25)
  })

  it('reports messages lost as sent minus received, never below zero', () => {
    const stats = new SimulationStats(1, 0)
    stats.sent = 10
    stats.received = 7
    expect(stats.summary(1).messages.lost).toBe(3)
    stats.received = 12
    expect(stats.summary(1).messages.lost).toBe(0)
  })

  it('adds the broker RSS when given', () => {
    expect(new SimulationStats(1, 0).summary(1, { pid: 42, rssBytes: 1024 }).broker).toEqual({ pid: 42, rssBytes: 1024 })
  })
})
