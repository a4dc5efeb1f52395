/**
 * 4. auto-registration burst (certmq): N new devices of an `auto` CA connect at once. Counts the
 * registrations in every sliding second (from the records' createdAt, stamped when the limiter
 * granted the slot), the CONNACK 3 refusals, and the time until every device is registered with
 * devices retrying after 1 s.
 */
import type { Fleet } from './driver.js'
import { closeAll, connectWave, type Connection } from './driver.js'
import { api, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface BurstResult { devices: number, limit: number, maxInAnySecond: number, rc3FirstWave: number, allRegisteredSeconds: number, waves: number }

export async function burst (target: Target, fleet: Fleet, limit: number): Promise<BurstResult> {
  const ca = await api(target.adminUrl!, 'POST', '/api/v1/cas', { certificatePem: fleet.ca.certificatePem, registrationMode: 'auto' })
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
  // the broker's own clock: registrations under the burst CA in any sliding second
  const times: number[] = []
  let cursor: string | null = null
  do {
    const page = await api(target.adminUrl!, 'GET', `/api/v1/certificates?caId=${String(ca['id'])}&limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    for (const item of page['items'] as Array<{ createdAt: string }>) times.push(Date.parse(item.createdAt))
    cursor = page['nextCursor'] as string | null
  } while (cursor !== null)
  times.sort((a, b) => a - b)
  let maxInAnySecond = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++
    maxInAnySecond = Math.max(maxInAnySecond, i - j + 1)
  }
  return { devices: fleet.devices.length, limit, maxInAnySecond, rc3FirstWave, allRegisteredSeconds, waves }
}
