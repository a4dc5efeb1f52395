/**
 * 4. auto-registration burst (certmq): N new devices of an `auto` CA connect at once. Counts the
 * acceptances in every sliding second (from the broker's own decision times), the CONNACK 3
 * refusals, and the time until every device is registered with devices retrying after 1 s.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Fleet } from './driver.js'
import { closeAll, connectWave, type Connection } from './driver.js'
import { api, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface BurstResult { devices: number, limit: number, maxInAnySecond: number, rc3FirstWave: number, allRegisteredSeconds: number, waves: number }

export async function burst (target: Target, fleet: Fleet, work: string, limit: number): Promise<BurstResult> {
  await api(target.adminUrl!, 'POST', '/api/v1/cas', { certificatePem: fleet.ca.certificatePem, registrationMode: 'auto' })
  const started = performance.now()
  let pending = fleet.devices
  let rc3FirstWave = 0
  let waves = 0
  const held: Connection[] = []
  while (pending.length > 0 && waves < 60) {
    if (waves > 0) await sleep(1000)
    const wave = await connectWave(target.port, pending.map((device) => ({ device, clientId: device.cn })), pending.length)
    if (waves === 0) rc3FirstWave = wave.refused.get(3) ?? 0
    waves++
    held.push(...wave.connections.filter((c): c is Connection => c?.code === 0))
    pending = pending.filter((_, i) => wave.connections[i]?.code !== 0)
  }
  const allRegisteredSeconds = (performance.now() - started) / 1000
  await closeAll(held)
  // the broker's own clock: auto-registrations in any sliding second
  await sleep(300) // log lines are flushed every 100 ms
  const times = (await readFile(join(work, 'certmq.log'), 'utf8')).split('\n')
    .filter((line) => line.includes('"connect.accepted"') && line.includes('"autoRegistered":true'))
    .map((line) => Date.parse((JSON.parse(line) as { time: string }).time))
    .sort((a, b) => a - b)
  let maxInAnySecond = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++
    maxInAnySecond = Math.max(maxInAnySecond, i - j + 1)
  }
  return { devices: fleet.devices.length, limit, maxInAnySecond, rc3FirstWave, allRegisteredSeconds, waves }
}
