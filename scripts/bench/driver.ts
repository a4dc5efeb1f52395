/**
 * The load driver: raw TLS sockets and hand-made MQTT CONNECTs (mqtt-packet), so the driver's
 * own CPU per connection stays small next to the broker's. Each connection keeps its TLS
 * session for resumption.
 */
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls'
import mqttPacket from 'mqtt-packet'
import { createCaCertificate, prepareIssuer } from '../../src/pki/certificate-authority.js'
import { TemplateIssuer } from '../../src/simulator/template-issuer.js'
import { api } from './lib.js'

export interface Device { cn: string, certPem: string, keyPem: string, fingerprint: string, context: SecureContext }
export interface Fleet { ca: { certificatePem: string, privateKeyPem: string }, devices: Device[] }

/** An EC P-256 fleet: CN=<prefix>000001…, OU=<ou>. */
export async function makeFleet (count: number, ou: string, prefix = 'SN'): Promise<Fleet> {
  const ca = await createCaCertificate({ commonName: `Bench ${ou} CA`, validityDays: 30, keyAlgorithm: 'EC-P256' })
  const issuer = await prepareIssuer(ca.certificatePem, ca.privateKeyPem)
  const cn = (i: number): string => `${prefix}${String(i + 1).padStart(6, '0')}`
  const template = await TemplateIssuer.create(ca, issuer, { organizationalUnit: ou, organization: 'bench' }, cn(0), 30)
  if (template === undefined) throw new Error('the template issuer does not fit this fleet')
  const devices: Device[] = []
  for (let start = 0; start < count; start += 256) {
    devices.push(...await Promise.all(Array.from({ length: Math.min(256, count - start) }, async (_, k) => {
      const issued = await template.issue(cn(start + k))
      return {
        cn: cn(start + k),
        certPem: issued.certificatePem,
        keyPem: issued.privateKeyPem,
        fingerprint: issued.fingerprint,
        context: createSecureContext({ cert: issued.certificatePem, key: issued.privateKeyPem })
      }
    })))
  }
  return { ca, devices }
}

/** Registers the fleet's CA (manual mode) and every device with a certmq, 20 API calls in flight. */
export async function registerFleet (adminUrl: string, fleet: Fleet): Promise<void> {
  const ca = await api(adminUrl, 'POST', '/api/v1/cas', { certificatePem: fleet.ca.certificatePem, registrationMode: 'manual' })
  for (let i = 0; i < fleet.devices.length; i += 20) {
    await Promise.all(fleet.devices.slice(i, i + 20).map(async (d) => await api(adminUrl, 'POST', '/api/v1/certificates', { caId: ca['id'], certificatePem: d.certPem })))
  }
}

export interface Connection {
  /** CONNACK return code; -1 when the connection ended without one */
  code: number
  /** CONNECT written → CONNACK read, ms */
  ms: number
  resumed: boolean
  socket: TLSSocket
  /** resolves with performance.now() when the socket closes */
  closed: Promise<number>
  session: () => Buffer | undefined
}

const connectPacket = (clientId: string, keepalive: number): Buffer =>
  mqttPacket.generate({ cmd: 'connect', clientId, clean: true, keepalive, protocolId: 'MQTT', protocolVersion: 4 })

export async function connectRaw (port: number, device: Device, clientId: string, options: { session?: Buffer, keepalive?: number } = {}): Promise<Connection> {
  return await new Promise((resolve, reject) => {
    let session: Buffer | undefined
    const socket = tlsConnect({
      host: '127.0.0.1', port, servername: 'localhost', secureContext: device.context, rejectUnauthorized: false,
      ...(options.session === undefined ? {} : { session: options.session })
    })
    socket.setNoDelay(true)
    socket.on('session', (s: Buffer) => { session = s })
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    let sentAt = 0
    let settled = false
    const closed = new Promise<number>((resolveClosed) => { socket.once('close', () => { resolveClosed(performance.now()) }) })
    socket.once('secureConnect', () => { sentAt = performance.now(); socket.write(connectPacket(clientId, options.keepalive ?? 600)) })
    parser.once('packet', (packet) => {
      settled = true
      const code = packet.cmd === 'connack' ? (packet.returnCode ?? -1) : -1
      resolve({ code, ms: performance.now() - sentAt, resumed: socket.isSessionReused(), socket, closed, session: () => session })
    })
    socket.on('data', (chunk: Buffer) => { parser.parse(chunk) })
    socket.once('error', (err) => { if (!settled) { settled = true; reject(err) } })
    socket.once('close', () => {
      if (!settled) { settled = true; resolve({ code: -1, ms: Number.NaN, resumed: false, socket, closed, session: () => session }) }
    })
  })
}

export interface Wave {
  /** index-aligned with the pairs; a hole where the connection could not be made */
  connections: Array<Connection | undefined>
  latencies: number[]
  refused: Map<number, number>
  failures: number
  seconds: number
}

/**
 * Connects every (device, clientId) pair with at most `concurrency` handshakes in flight and, if
 * `rate` > 0, at most `rate` starts per second.
 */
export async function connectWave (port: number, pairs: Array<{ device: Device, clientId: string, session?: Buffer }>,
  concurrency: number, rate = 0): Promise<Wave> {
  const wave: Wave = { connections: new Array<Connection | undefined>(pairs.length), latencies: [], refused: new Map(), failures: 0, seconds: 0 }
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, pairs.length) }, async () => {
    while (next < pairs.length) {
      const i = next++
      if (rate > 0) {
        const due = started + (i * 1000) / rate - performance.now()
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
      }
      const pair = pairs[i]!
      try {
        const c = await connectRaw(port, pair.device, pair.clientId, pair.session === undefined ? {} : { session: pair.session })
        wave.connections[i] = c
        if (c.code === 0) wave.latencies.push(c.ms)
        else if (c.code > 0) wave.refused.set(c.code, (wave.refused.get(c.code) ?? 0) + 1)
        else wave.failures++
      } catch {
        wave.failures++
      }
    }
  }))
  wave.seconds = (performance.now() - started) / 1000
  return wave
}

export async function closeAll (connections: Array<Connection | undefined>): Promise<void> {
  const open = connections.filter((c): c is Connection => c !== undefined)
  for (const c of open) c.socket.destroy()
  await Promise.all(open.map(async (c) => await c.closed))
}
