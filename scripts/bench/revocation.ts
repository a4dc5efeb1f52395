/** 5. revocation propagation (certmq): revoke N connected devices; API call → disconnect. */
import type { Device } from './driver.js'
import { connectWave } from './driver.js'
import { api, percentile } from './lib.js'
import type { Target } from './targets.js'
import { within } from '../../src/timers.js'

export interface RevocationResult { devices: number, p50: number, p99: number, max: number, notDropped: number }

export async function revocation (target: Target, devices: Device[]): Promise<RevocationResult> {
  const wave = await connectWave(target.port, devices.map((device) => ({ device, clientId: device.cn })), 50)
  const held = wave.connections
  if (held.length !== devices.length || devices.some((_, i) => held[i]?.code !== 0)) throw new Error('revocation: a device was refused before its revocation')
  const ms: number[] = []
  let notDropped = 0
  // ten revocations in flight at a time, as an operator script would
  for (let i = 0; i < devices.length; i += 10) {
    await Promise.all(devices.slice(i, i + 10).map(async (device, k) => {
      const t0 = performance.now()
      await api(target.adminUrl!, 'POST', `/api/v1/certificates/${device.fingerprint}/revoke`, { confirm: true })
      const closedAt = await within(held[i + k]!.closed, 5000, Number.NaN)
      if (Number.isNaN(closedAt)) notDropped++
      else ms.push(closedAt - t0)
    }))
  }
  for (const c of held) c?.socket.destroy()
  return { devices: devices.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms), notDropped }
}
