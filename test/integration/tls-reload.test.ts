/**
 * An operator's own MQTTS certificate (mqtts.certFile/keyFile) is replaced on disk and reloaded
 * while the broker runs (`certmq serve` reloads on SIGHUP: serve-process.test.ts): new handshakes
 * get the new one, live connections stay, and a pair that cannot be served changes nothing.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { connect, type TLSSocket } from 'node:tls'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { createLogger } from '../../src/log.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { localConfig } from '../helpers/certmq.js'
import { LogSink } from '../helpers/log-sink.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { OpenSslPki, fingerprintOf, type OpenSslCa, type OpenSslCert } from '../helpers/openssl.js'
import { parseExposition } from '../helpers/prometheus.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'
import { waitFor } from '../helpers/wait-for.js'

const TOKEN = 'tls-reload-test-token-0123456789'
const DAY_MS = 86_400_000

let pki: OpenSslPki
let root: OpenSslCa
const tempDir = tempDirs('certmq-tls-reload-')
beforeAll(async () => {
  pki = await OpenSslPki.create()
  root = await pki.ca('server-root')
})
afterAll(async () => {
  await pki.cleanup()
})

async function serverLeaf (name: string, opts: { days?: number, notBefore?: Date, notAfter?: Date } = {}): Promise<OpenSslCert> {
  return await pki.leaf(name, root, { cn: 'localhost', eku: 'serverAuth', san: ['DNS:localhost', 'IP:127.0.0.1'], ...opts })
}

/** The server's certificate (with its chain) and key files, copies of `leaf`'s in a directory of their own, for a reload to replace. */
async function filesOf (leaf: OpenSslCert): Promise<{ certFile: string, keyFile: string }> {
  const dir = tempDir()
  const certFile = join(dir, 'server.pem')
  const keyFile = join(dir, 'server.key')
  await copyFile(leaf.chainPath, certFile)
  await copyFile(leaf.keyPath, keyFile)
  return { certFile, keyFile }
}

/** Opens a TLS connection trusting `root`; resolves once the handshake is done. */
async function handshake (port: number): Promise<TLSSocket> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: root.pem }, () => { resolve(socket) })
    socket.once('error', reject)
  })
}

/** The SHA-256 fingerprint (lowercase hex) of the certificate a new handshake is served. */
async function served (port: number): Promise<string> {
  const socket = await handshake(port)
  const fingerprint = socket.getPeerCertificate().fingerprint256.replaceAll(':', '').toLowerCase()
  socket.destroy()
  return fingerprint
}

/** `promise`, or a failure naming `what` after 10 s: mqtt.js waits forever for an answer a dead session never sends. */
async function inTime<T> (promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no ${what} within 10 s`)) }, 10_000) })
  return await Promise.race([promise, late]).finally(() => { clearTimeout(timer) })
}

async function start (certFile: string, keyFile: string, logs: LogSink): Promise<RunningServer> {
  const dataDir = tempDir()
  const config = localConfig(dataDir, { CERTMQ_ADMIN_TOKEN: TOKEN, CERTMQ_MQTTS_CERT_FILE: certFile, CERTMQ_MQTTS_KEY_FILE: keyFile })
  return await startServer(config, { logger: createLogger('info', logs) })
}

async function notAfterGauge (server: RunningServer): Promise<number | undefined> {
  const response = await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  return parseExposition(await response.text()).get('certmq_mqtts_certificate_not_after_timestamp_seconds')
}

describe('reloading the operator\'s MQTTS certificate', () => {
  it('serves the replaced files to new handshakes, keeps live connections, and refuses an unusable pair without a change', async () => {
    const first = await serverLeaf('first')
    const second = await serverLeaf('second', { days: 400 })
    const { certFile, keyFile } = await filesOf(first)
    const logs = new LogSink()
    const server = await start(certFile, keyFile, logs)
    let device: MqttClient | undefined
    try {
      expect(await served(server.mqtts.port)).toBe(fingerprintOf(first.pem))
      // a device connected before the swap: server-root is also its CA (auto registration)
      const ca = await fetch(`${server.adminUrl}/api/v1/cas`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ certificatePem: root.pem, registrationMode: 'auto' })
      })
      expect(ca.status, await ca.clone().text()).toBe(201)
      const leaf = await pki.leaf('reload-device', root, { cn: 'reload-device' })
      const connected = await connectDevice(server.mqtts.port, root.pem, { certPem: leaf.pem, keyPem: leaf.keyPem }, { servername: 'localhost' })
      expect(connected.code).toBe(0)
      device = connected.client!
      let closed = false
      device.once('close', () => { closed = true })

      // unchanged files: nothing to do
      expect((await server.reloadTls()).result).toBe('unchanged')
      expect(logs.events('tls.reload_unchanged')).toHaveLength(1)

      await copyFile(second.chainPath, certFile)
      await copyFile(second.keyPath, keyFile)
      const reloaded = await server.reloadTls()
      expect(reloaded).toMatchObject({ result: 'reloaded', fingerprint: fingerprintOf(second.pem) })
      expect(await served(server.mqtts.port)).toBe(fingerprintOf(second.pem))
      expect(logs.events('tls.reloaded')).toEqual([expect.objectContaining({
        trigger: 'signal', certificate: certFile, fingerprint: fingerprintOf(second.pem), previous: fingerprintOf(first.pem)
      })])
      expect(await notAfterGauge(server)).toBe(Date.parse(reloaded.notAfter) / 1000)
      // the connection made before the swap is still up and carries MQTT both ways: a QoS 1
      // subscription and a QoS 1 publish that comes back to it
      const topic = 'fleet/reload-device/echo'
      const received: Array<{ topic: string, payload: string, qos: number }> = []
      device.on('message', (t, payload, packet) => { received.push({ topic: t, payload: payload.toString(), qos: packet.qos }) })
      expect(closed, 'the device connected before the reload was disconnected').toBe(false)
      expect((await inTime(device.subscribeAsync(topic, { qos: 1 }), 'SUBACK')).map((grant) => grant.qos)).toEqual([1])
      await inTime(device.publishAsync(topic, 'after the reload', { qos: 1 }), 'PUBACK')
      expect(await waitFor(() => received[0], { what: 'the QoS 1 message back on the device connected before the reload' }))
        .toEqual({ topic, payload: 'after the reload', qos: 1 })
      expect(closed).toBe(false)
      await endClient(device)
      device = undefined

      // a key that is not the certificate's: refused, the second certificate stays
      const third = await serverLeaf('third')
      await copyFile(third.chainPath, certFile)
      await expect(server.reloadTls()).rejects.toMatchObject({ code: 'TLS_SETUP_FAILED', message: expect.stringContaining(`${keyFile} is not the private key of ${certFile}`) })
      // an expired certificate with its own key: refused too
      const expired = await serverLeaf('expired', { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) })
      await copyFile(expired.chainPath, certFile)
      await copyFile(expired.keyPath, keyFile)
      await expect(server.reloadTls()).rejects.toMatchObject({ code: 'TLS_SETUP_FAILED', message: expect.stringContaining('expired') })
      // not PEM at all
      await writeFile(certFile, 'not a certificate\n')
      await expect(server.reloadTls()).rejects.toMatchObject({ code: 'PEM_INVALID', message: expect.stringContaining(certFile) })
      expect(logs.events('tls.reload_failed').map((e) => e['code'])).toEqual(['TLS_SETUP_FAILED', 'TLS_SETUP_FAILED', 'PEM_INVALID'])
      expect(await served(server.mqtts.port)).toBe(fingerprintOf(second.pem))
      expect(await notAfterGauge(server)).toBe(Date.parse(reloaded.notAfter) / 1000)

      // a file holding the key and the chain, named as both, serves at start and so reloads too
      await writeFile(certFile, third.keyPem + await readFile(third.chainPath, 'utf8'))
      await copyFile(certFile, keyFile)
      expect((await server.reloadTls()).fingerprint).toBe(fingerprintOf(third.pem))
      expect(await served(server.mqtts.port)).toBe(fingerprintOf(third.pem))
    } finally {
      device?.end(true)
      await server.stop()
    }
  })

  it('reports a certificate within 30 days of its expiry at start', async () => {
    const soon = await serverLeaf('soon', { days: 10 })
    const logs = new LogSink()
    const server = await start(soon.chainPath, soon.keyPath, logs)
    try {
      expect(logs.events('tls.expiring')).toEqual([expect.objectContaining({ certificate: soon.chainPath, fingerprint: fingerprintOf(soon.pem), daysLeft: 9 })])
      expect(await served(server.mqtts.port)).toBe(fingerprintOf(soon.pem))
    } finally {
      await server.stop()
    }
  })

  it('reports a certificate within 30 days of its expiry when a reload starts serving it', async () => {
    const lasting = await serverLeaf('lasting-reload', { days: 200 })
    const soon = await serverLeaf('soon-reload', { days: 10 })
    const { certFile, keyFile } = await filesOf(lasting)
    const logs = new LogSink()
    const server = await start(certFile, keyFile, logs)
    try {
      expect(logs.events('tls.expiring')).toEqual([])
      await copyFile(soon.chainPath, certFile)
      await copyFile(soon.keyPath, keyFile)
      expect((await server.reloadTls()).fingerprint).toBe(fingerprintOf(soon.pem))
      expect(logs.events('tls.expiring')).toEqual([expect.objectContaining({ certificate: certFile, fingerprint: fingerprintOf(soon.pem), daysLeft: 9 })])
    } finally {
      await server.stop()
    }
  })
})
