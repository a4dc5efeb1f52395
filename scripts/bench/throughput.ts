/**
 * 3. throughput: P publishers → S subscribers for a fixed time, 64-byte payloads, at QoS 0 or 1
 * (pairs: publisher i → subscriber i; fan-out: 1 publisher → S subscribers of one topic), at a
 * fixed offered rate: every target gets the same load, so latency and CPU per delivery compare,
 * and a broker that keeps up delivers everything. Deliveries per second, latency, broker CPU µs
 * per delivery, messages lost (not delivered within 5 s of the end).
 */
import mqtt, { type MqttClient } from 'mqtt'
import type { Device } from './driver.js'
import { cpuMs, percentile, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface ThroughputResult { deliveriesPerSec: number, p50: number, p99: number, cpuUsPerDelivery: number, sent: number, expected: number, delivered: number, lost: number }

async function client (target: Target, device: Device, clientId: string): Promise<MqttClient> {
  return await mqtt.connectAsync({
    protocol: 'mqtts', host: '127.0.0.1', port: target.port, servername: 'localhost', rejectUnauthorized: false,
    cert: device.certPem, key: device.keyPem, clientId, protocolVersion: 4, reconnectPeriod: 0, keepalive: 600
  })
}

export async function throughput (target: Target, devices: Device[], mode: { publishers: number, subscribers: number, fanOut: boolean, qos: 0 | 1, seconds: number, payloadBytes: number, publishesPerSecond: number }): Promise<ThroughputResult> {
  const run = `${target.name.replace(/\W/g, '')}${Date.now() % 100000}`
  const topicOf = (i: number): string => mode.fanOut ? `bench/${run}/fan` : `bench/${run}/pair/${i}`
  const subs = await Promise.all(Array.from({ length: mode.subscribers }, async (_, i) => await client(target, devices[i]!, `${devices[i]!.cn}-sub-${run}`)))
  const pubs = await Promise.all(Array.from({ length: mode.publishers }, async (_, i) => await client(target, devices[mode.subscribers + i]!, `${devices[mode.subscribers + i]!.cn}-pub-${run}`)))
  const latencies: number[] = []
  let delivered = 0
  await Promise.all(subs.map(async (sub, i) => {
    sub.on('message', (_topic, payload) => {
      delivered++
      const sentAt = Number(payload.toString('latin1', 0, 16))
      if (delivered % 7 === 0) latencies.push(performance.now() - sentAt) // a sample keeps memory flat
    })
    await sub.subscribeAsync(topicOf(i), { qos: mode.qos })
  }))
  const pad = 'x'.repeat(Math.max(0, mode.payloadBytes - 16))
  let sent = 0
  let running = true
  const cpuBefore = await cpuMs(target.pid)
  const started = performance.now()
  await Promise.all([
    sleep(mode.seconds * 1000).then(() => { running = false }),
    ...pubs.map(async (pub, i) => {
      // every 10 ms, what this publisher owes its share of the offered rate
      const perPublisher = mode.publishesPerSecond / mode.publishers
      let mine = 0
      while (running) {
        const owed = Math.floor(((performance.now() - started) / 1000) * perPublisher) - mine
        for (let k = 0; k < owed; k++) {
          mine++
          sent++
          pub.publish(topicOf(i), performance.now().toFixed(3).padStart(16, '0') + pad, { qos: mode.qos })
        }
        await sleep(10)
      }
    })
  ])
  const expected = sent * (mode.fanOut ? mode.subscribers : 1)
  // let what is in flight arrive
  for (let i = 0; i < 50 && delivered < expected; i++) await sleep(100)
  const seconds = (performance.now() - started) / 1000
  const cpu = (await cpuMs(target.pid)) - cpuBefore
  await Promise.all([...subs, ...pubs].map(async (c) => { await c.endAsync(true).catch(() => {}) }))
  await sleep(500)
  return {
    deliveriesPerSec: delivered / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUsPerDelivery: delivered === 0 ? Number.NaN : (cpu * 1000) / delivered,
    sent,
    expected,
    delivered,
    lost: Math.max(0, expected - delivered)
  }
}
