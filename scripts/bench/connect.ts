/** 1. connect: N registered devices at a fixed offered rate; connects/s, latency, broker CPU per connect. */
import type { Device } from './driver.js'
import { closeAll, connectWave } from './driver.js'
import { cpuMs, percentile, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface ConnectRound { connectsPerSec: number, p50: number, p99: number, cpuMsPerConnect: number, failures: number }

export async function connectRound (target: Target, devices: Device[], concurrency: number, rate: number): Promise<ConnectRound> {
  const pairs = devices.map((device) => ({ device, clientId: device.cn }))
  const cpuBefore = await cpuMs(target.pid)
  const wave = await connectWave(target.port, pairs, concurrency, rate)
  const cpu = (await cpuMs(target.pid)) - cpuBefore
  await closeAll(wave.connections)
  await sleep(1000) // let the broker release them before the next round
  const refused = [...wave.refused.values()].reduce((a, b) => a + b, 0)
  return {
    connectsPerSec: devices.length / wave.seconds,
    p50: percentile(wave.latencies, 50),
    p99: percentile(wave.latencies, 99),
    cpuMsPerConnect: cpu / devices.length,
    failures: wave.failures + refused
  }
}
