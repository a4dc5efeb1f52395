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
    expect(s.interrupted).toBe(false)
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
    expect(new SimulationStats(1, 0).summary(1, { pid: 42, rssBytes: 1024, peakRssBytes: 2048 }).broker).toEqual({ pid: 42, rssBytes: 1024, peakRssBytes: 2048 })
  })

  it('knows nothing received or lost without a monitor, and says so with null rather than counting every message lost', () => {
    const stats = new SimulationStats(1, 0, false)
    stats.sent = 10
    const { messages } = stats.summary(1)
    expect(messages.received).toBeNull()
    expect(messages.lost).toBeNull()
    expect(messages.sent).toBe(10)
  })

  it('counts devices, not only attempts: connected at least once, never connected, and attempts abandoned at the end', () => {
    const stats = new SimulationStats(3, 0)
    for (let i = 0; i < 5; i++) stats.attempt()
    stats.rejected(5) // device 0, refused first
    stats.connected(0, 1, false, 10) // then accepted on a retry
    stats.connected(0, 1, false, 20) // and again after a drop
    stats.failed('tls') // device 1
    stats.abandoned() // device 2, in flight at the end
    const { connect } = stats.summary(100)
    expect(connect).toMatchObject({ attempts: 5, accepted: 2, aborted: 1, devicesConnected: 1, devicesNeverConnected: 2 })
    expect(connect.accepted + Object.values(connect.rejectedByCode).reduce((a, b) => a + b, 0) +
      Object.values(connect.failures).reduce((a, b) => a + b, 0) + connect.aborted).toBe(connect.attempts)
  })
})
