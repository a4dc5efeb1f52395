/** 1. connect: N registered devices at a fixed offered rate; connects/s, latency, broker CPU per connect. */
import type { Device, Wave } from './driver.js'
import { closeAll, connectWave } from './driver.js'
import { cpuMs, percentile, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface ConnectRound { connectsPerSec: number, p50: number, p99: number, cpuMsPerConnect: number, failures: number }

/** What one target's blocks add up to. */
interface Tally { latencies: number[], cpuMs: number, seconds: number, connects: number, failures: number }

const emptyTally = (): Tally => ({ latencies: [], cpuMs: 0, seconds: 0, connects: 0, failures: 0 })

function roundOf (tally: Tally): ConnectRound {
  return {
    connectsPerSec: tally.connects / tally.seconds,
    p50: percentile(tally.latencies, 50),
    p99: percentile(tally.latencies, 99),
    cpuMsPerConnect: tally.cpuMs / tally.connects,
    failures: tally.failures
  }
}

/** Connects `devices` to `target` and adds latencies, time and failures to `tally`; the caller counts CPU and closes the wave. */
async function connectBlock (target: Target, devices: Device[], concurrency: number, rate: number, tally: Tally): Promise<Wave> {
  const wave = await connectWave(target.port, devices.map((device) => ({ device, clientId: device.cn })), concurrency, rate)
  tally.latencies.push(...wave.latencies)
  tally.seconds += wave.seconds
  tally.connects += devices.length
  tally.failures += wave.failures + [...wave.refused.values()].reduce((a, b) => a + b, 0)
  return wave
}

/** A whole round on one target; CPU counted while the connects run, not while they close. */
export async function connectRound (target: Target, devices: Device[], concurrency: number, rate: number): Promise<ConnectRound> {
  const tally = emptyTally()
  const cpuBefore = await cpuMs(target.pid)
  const wave = await connectBlock(target, devices, concurrency, rate, tally)
  tally.cpuMs = (await cpuMs(target.pid)) - cpuBefore
  await closeAll(wave.connections)
  await sleep(1000) // let the broker release them before the next round
  return roundOf(tally)
}

/**
 * One round per target, interleaved: the devices in blocks of `blockSize`, each block connected
 * to every target in turn, the order rotating from block to block. A target's CPU speed on a
 * small VM drifts by ±15% within seconds to minutes; taken round after round, that drift lands
 * on one target's round and not the other's, and a 5% difference between two builds drowns in
 * it. Interleaved, every target sees the same drift. Each block is closed, and the broker given
 * a moment to release it, before the next target's block starts, so a broker's closes do not run
 * while another is measured (its timers and late collections still may: all share one core).
 *
 * A target's CPU is read from the start of the interleaved round to its end, not per block: it
 * includes the closes of its connections, and whatever it did while the others were measured
 * (one-second flush timers, garbage collection of an earlier block). Counted per block, that
 * work, which certmq has and plain Aedes has not, would mostly fall outside the count.
 */
export async function interleavedRounds (targets: readonly Target[], devices: Device[], concurrency: number, rate: number, blockSize: number):
  Promise<Map<string, ConnectRound>> {
  const tallies = new Map(targets.map((t) => [t.name, emptyTally()]))
  const cpuBefore = new Map(await Promise.all(targets.map(async (t) => [t.name, await cpuMs(t.pid)] as const)))
  // long enough for a broker to process the closes of a block: about 0.1 ms each, far less than this
  const pauseMs = 100 + blockSize
  for (let from = 0, b = 0; from < devices.length; from += blockSize, b++) {
    const slice = devices.slice(from, from + blockSize)
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + b) % targets.length]!
      const wave = await connectBlock(target, slice, concurrency, rate, tallies.get(target.name)!)
      await closeAll(wave.connections)
      await sleep(pauseMs)
    }
  }
  for (const target of targets) tallies.get(target.name)!.cpuMs = (await cpuMs(target.pid)) - cpuBefore.get(target.name)!
  return new Map([...tallies].map(([name, tally]) => [name, roundOf(tally)]))
}
