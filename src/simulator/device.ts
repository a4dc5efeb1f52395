/**
 * One simulated device: an mqtt.js client over a TLS socket this module opens itself, so it can
 * offer the device's last TLS session (resumption with tickets), turn Nagle off and see whether
 * the session was resumed. A session attempt ends in one of: accepted (CONNACK 0), refused
 * (CONNACK code), or failed (TLS error, timeout, closed without CONNACK).
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { MqttClient } from 'mqtt'
import type { FailureKind } from './stats.js'

export interface TargetBroker {
  host: string
  port: number
  /**
   * TLS server name (SNI) and the name checked in the server certificate; undefined for a broker
   * addressed by IP, which is checked against the certificate's IP addresses (TLS sends no IP as SNI)
   */
  servername: string | undefined
  /** CA certificates that sign the server's certificate; undefined with `insecure` */
  serverCaPem: string | undefined
  /** accept any server certificate (tests against a throwaway broker) */
  insecure: boolean
  connectTimeoutMs: number
  keepaliveSeconds: number
}

export type AttemptResult =
  | { kind: 'accepted', latencyMs: number, resumed: boolean, client: MqttClient }
  | { kind: 'refused', code: number }
  | { kind: 'failed', failure: FailureKind, message: string }
  | { kind: 'aborted' }

export interface DeviceIdentity {
  clientId: string
  certificatePem: string
  privateKeyPem: string
}

/**
 * Connects once. On acceptance the caller owns `client` (and must end it); otherwise every
 * resource is already released. `session` is the TLS session to resume, if any; `onSession`
 * receives the tickets the server issues. `signal` abandons the attempt ('aborted') unless it
 * has ended already.
 */
export async function connectOnce (broker: TargetBroker, device: DeviceIdentity, session: Buffer | undefined,
  onSession: (session: Buffer) => void, signal?: AbortSignal): Promise<AttemptResult> {
  return await new Promise<AttemptResult>((resolve) => {
    if (signal?.aborted === true) {
      resolve({ kind: 'aborted' })
      return
    }
    let socket: TLSSocket | undefined
    let sentAt = 0
    let settled = false
    const client = new MqttClient(() => {
      socket = tlsConnect({
        host: broker.host,
        port: broker.port,
        ...(broker.servername === undefined ? {} : { servername: broker.servername }),
        ca: broker.serverCaPem,
        rejectUnauthorized: !broker.insecure,
        cert: device.certificatePem,
        key: device.privateKeyPem,
        ...(session === undefined ? {} : { session })
      })
      socket.setNoDelay(true)
      socket.on('session', onSession)
      // mqtt.js writes CONNECT when the socket connects; TLS holds it until the handshake is done
      socket.once('secureConnect', () => { sentAt = performance.now() })
      return socket
    }, {
      clientId: device.clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: broker.keepaliveSeconds,
      reconnectPeriod: 0,
      // mqtt.js gives up later than the timer below, so a missing CONNACK is counted as 'timeout'
      // rather than as mqtt.js's 'connack timeout' error
      connectTimeout: broker.connectTimeoutMs + 5000,
      // the simulator decides about retries; a refused device must not be retried by mqtt.js
      resubscribe: false
    })
    const finish = (result: AttemptResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', abandon)
      if (result.kind !== 'accepted') client.end(true)
      resolve(result)
    }
    const abandon = (): void => { finish({ kind: 'aborted' }) }
    signal?.addEventListener('abort', abandon)
    const timer = setTimeout(() => { finish({ kind: 'failed', failure: 'timeout', message: `no CONNACK within ${broker.connectTimeoutMs} ms` }) }, broker.connectTimeoutMs)
    client.on('packetreceive', (packet) => {
      if (packet.cmd !== 'connack') return
      const code = packet.returnCode ?? 0
      if (code === 0) {
        finish({ kind: 'accepted', latencyMs: performance.now() - sentAt, resumed: socket?.isSessionReused() ?? false, client })
      } else {
        finish({ kind: 'refused', code })
      }
    })
    client.on('error', (err: Error & { code?: unknown }) => {
      // a CONNACK refusal is reported through packetreceive first; anything else is a failure
      const tls = /certificate|handshake|SSL|TLS|alert/i.test(err.message) || typeof err.code === 'string' && err.code.startsWith('ERR_SSL')
      finish({ kind: 'failed', failure: tls ? 'tls' : 'error', message: err.message })
    })
    client.on('close', () => { finish({ kind: 'failed', failure: 'closed', message: 'connection closed before CONNACK' }) })
  })
}
