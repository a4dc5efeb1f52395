/**
 * Device-side helpers: connect over MQTTS with a client certificate and resolve with the CONNACK
 * return code; and raw CONNECT bytes for what mqtt.js refuses to send (empty client ID with
 * clean=false).
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import mqtt, { type MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'

export interface DeviceCredentials {
  certPem?: string
  keyPem?: string
  /** Leaf followed by intermediates, when the device sends its chain. */
  chainPem?: string
}

export interface ConnectResult {
  /** 0 on success, else the CONNACK return code; -1 when the connection closed without one. */
  code: number
  client: MqttClient | undefined
  /** The CONNACK's session present flag, when the device was accepted. */
  sessionPresent?: boolean
}

export async function connectDevice (port: number, serverCaPem: string, device: DeviceCredentials,
  options: { clientId?: string; clean?: boolean; timeoutMs?: number; servername?: string | null } = {}): Promise<ConnectResult> {
  const client = mqtt.connect({
    protocol: 'mqtts',
    host: '127.0.0.1',
    port,
    // TLS SNI; null sends none (the host is an IP address, so Node adds none by itself)
    servername: options.servername === null ? undefined : (options.servername ?? 'localhost'),
    ca: serverCaPem,
    cert: device.chainPem ?? device.certPem,
    key: device.keyPem,
    clientId: options.clientId ?? '',
    clean: options.clean ?? true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs ?? 10_000
  })
  return await new Promise<ConnectResult>((resolve) => {
    const done = (result: ConnectResult): void => {
      client.removeAllListeners('connect')
      client.removeAllListeners('error')
      client.removeAllListeners('close')
      client.on('error', () => {})
      if (result.code !== 0) client.end(true)
      resolve(result)
    }
    client.once('connect', (connack) => { done({ code: 0, client, sessionPresent: connack.sessionPresent }) })
    client.once('error', (err: Error & { code?: unknown }) => {
      done({ code: typeof err.code === 'number' ? err.code : -1, client: undefined })
    })
    client.once('close', () => { done({ code: -1, client: undefined }) })
  })
}

export async function endClient (client: MqttClient | undefined): Promise<void> {
  if (client === undefined) return
  await client.endAsync(true)
}

/** A raw MQTT 3.1.1 session over TLS, for packets mqtt.js will not send. */
export class RawMqttSession {
  readonly packets: mqttPacket.Packet[] = []
  private readonly waiters: Array<() => void> = []

  private constructor (readonly socket: TLSSocket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (packet) => {
      this.packets.push(packet)
      for (const wake of this.waiters.splice(0)) wake()
    })
    socket.on('data', (chunk: Buffer) => { parser.parse(chunk) })
    socket.on('close', () => { for (const wake of this.waiters.splice(0)) wake() })
  }

  static async open (port: number, serverCaPem: string, device: DeviceCredentials): Promise<RawMqttSession> {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: serverCaPem, cert: device.certPem, key: device.keyPem })
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', reject)
    })
    return new RawMqttSession(socket)
  }

  /**
   * CONNECT with an empty client ID, written byte by byte: [MQTT-3.1.3-7] lets a client do
   * this, mqtt.js refuses to encode it with clean=false.
   */
  sendConnect (clientId: string, clean: boolean, keepalive = 60): void {
    const id = Buffer.from(clientId, 'utf8')
    const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, clean ? 0x02 : 0x00, keepalive >> 8, keepalive & 0xff])
    const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id])
    const remaining = variable.length + payload.length
    this.socket.write(Buffer.concat([Buffer.from([0x10, remaining]), variable, payload]))
  }

  send (packet: mqttPacket.Packet): void {
    this.socket.write(mqttPacket.generate(packet))
  }

  async next (cmd: string, timeoutMs = 5000): Promise<mqttPacket.Packet> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.packets.findIndex((p) => p.cmd === cmd)
      if (index >= 0) return this.packets.splice(index, 1)[0] as mqttPacket.Packet
      if (this.socket.destroyed || Date.now() > deadline) throw new Error(`no ${cmd} packet arrived`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, Math.max(0, deadline - Date.now()))
      })
    }
  }

  close (): void {
    this.socket.destroy()
  }
}

/** Where a device connects: a broker's MQTTS port and the CA that devices trust it by. */
export interface BrokerEndpoint {
  mqttsPort: number
  serverCaPem: string
}

/** A device (its certificate and key) as the openssl helpers make it. */
export interface DeviceIdentity {
  pem: string
  keyPem: string
}

export interface PersistentDevice {
  client: MqttClient
  sessionPresent: boolean
  /** Payloads received, as text, in order. */
  received: string[]
}

/** A device's persistent session (clean=false) under `clientId`, collecting what arrives; it must be accepted. */
export async function connectPersistent (broker: BrokerEndpoint, device: DeviceIdentity, clientId: string): Promise<PersistentDevice> {
  const { code, client, sessionPresent } = await connectDevice(broker.mqttsPort, broker.serverCaPem, { certPem: device.pem, keyPem: device.keyPem },
    { clientId, clean: false })
  if (code !== 0 || client === undefined) throw new Error(`${clientId}: CONNACK ${code}`)
  const received: string[] = []
  client.on('message', (_topic, payload) => { received.push(payload.toString()) })
  return { client, sessionPresent: sessionPresent === true, received }
}

/** Publishes `payloads` at QoS 1 to `topic` from a clean session of `device`, then disconnects. */
export async function publishAs (broker: BrokerEndpoint, device: DeviceIdentity, clientId: string, topic: string, payloads: string[]): Promise<void> {
  const { code, client } = await connectDevice(broker.mqttsPort, broker.serverCaPem, { certPem: device.pem, keyPem: device.keyPem }, { clientId })
  if (code !== 0 || client === undefined) throw new Error(`${clientId}: CONNACK ${code}`)
  for (const payload of payloads) await client.publishAsync(topic, payload, { qos: 1 })
  await endClient(client)
}
