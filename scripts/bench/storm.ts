/** 6. reconnect storm: N connected devices dropped at once reconnect; time until all are back, TLS sessions resumed. */
import type { Device } from './driver.js'
import { closeAll, connectWave } from './driver.js'
import { cpuMs, sleep } from './lib.js'
import type { Target } from './targets.js'

export interface StormResult { devices: number, allBackSeconds: number, resumed: number, refused: number, failures: number, cpuMsPerReconnect: number }

export async function reconnectStorm (target: Target, devices: Device[]): Promise<StormResult> {
  const first = await connectWave(target.port, devices.map((device) => ({ device, clientId: device.cn })), 50)
  await sleep(500) // TLS 1.3 tickets arrive after the handshake
  const sessions = devices.map((_, i) => first.connections[i]?.session())
  // the broker (or the network) drops everyone: the devices notice and come back at once
  await closeAll(first.connections)
  const cpuBefore = await cpuMs(target.pid)
  const second = await connectWave(target.port, devices.map((device, i) => ({ device, clientId: device.cn, ...(sessions[i] === undefined ? {} : { session: sessions[i] }) })), 200)
  const cpu = (await cpuMs(target.pid)) - cpuBefore
  const refused = [...second.refused.values()].reduce((a, b) => a + b, 0)
  await closeAll(second.connections)
  await sleep(1000)
  return {
    devices: devices.length,
    allBackSeconds: second.seconds,
    resumed: second.connections.filter((c) => c?.resumed === true).length,
    refused,
    failures: second.failures,
    cpuMsPerReconnect: cpu / devices.length
  }
}
