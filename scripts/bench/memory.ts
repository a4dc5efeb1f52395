/** 2. memory: N idle connections held open; broker RSS growth per connection. */
import type { Device } from './driver.js'
import { closeAll, connectWave } from './driver.js'
import { rssBytes, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface MemoryResult { connections: number, rssBeforeMiB: number, rssAfterMiB: number, kibPerConnection: number, failures: number }

export async function idleMemory (target: Target, devices: Device[], connections: number): Promise<MemoryResult> {
  // one session per (device, n): certmq allows several sessions per certificate
  const pairs = Array.from({ length: connections }, (_, i) => ({ device: devices[i % devices.length]!, clientId: `${devices[i % devices.length]!.cn}-m${Math.floor(i / devices.length)}` }))
  await sleep(1000)
  const before = await rssBytes(target.pid)
  const wave = await connectWave(target.port, pairs, 50, 0)
  await sleep(3000) // idle: let buffers settle and a GC run
  const after = await rssBytes(target.pid)
  const held = wave.connections.filter((c) => c?.code === 0).length
  await closeAll(wave.connections)
  await sleep(1500)
  return {
    connections: held,
    rssBeforeMiB: before / 1048576,
    rssAfterMiB: after / 1048576,
    kibPerConnection: held === 0 ? Number.NaN : (after - before) / 1024 / held,
    failures: connections - held
  }
}
