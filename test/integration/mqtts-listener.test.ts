/**
 * The MQTTS listener's context swaps (a CA list change, a new server certificate) with real
 * handshakes: a swap OpenSSL refuses leaves the served certificate as it was, and spoils no
 * later swap; a client that never finishes its handshake is closed after mqtts.handshakeTimeoutMs.
 */
import { connect as tcpConnect } from 'node:net'
import { connect } from 'node:tls'
import { Aedes } from 'aedes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MqttsListener } from '../../src/broker/mqtts-listener.js'
import { createLogger } from '../../src/log.js'
import { OpenSslPki, fingerprintOf, type OpenSslCa } from '../helpers/openssl.js'
import { waitFor } from '../helpers/wait-for.js'

let pki: OpenSslPki
let root: OpenSslCa
beforeAll(async () => {
  pki = await OpenSslPki.create()
  root = await pki.ca('listener-root')
})
afterAll(async () => { await pki.cleanup() })

async function served (port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: root.pem }, () => {
      resolve(socket.getPeerCertificate().fingerprint256.replaceAll(':', '').toLowerCase())
      socket.destroy()
    })
    socket.once('error', reject)
  })
}

describe('MqttsListener', () => {
  it('keeps serving its certificate when a new pair is refused, and swaps the CA list afterwards', async () => {
    const leaf = { cn: 'localhost', eku: 'serverAuth' as const, san: ['DNS:localhost', 'IP:127.0.0.1'] }
    const first = await pki.leaf('first', root, leaf)
    const other = await pki.leaf('other', root, leaf)
    const broker = await Aedes.createBroker()
    const listener = new MqttsListener(broker, {
      host: '127.0.0.1', port: 0, certificatePem: first.pem, privateKeyPem: first.keyPem, caPems: [], handshakeTimeoutMs: 5000
    }, createLogger('silent'))
    const { port } = await listener.listen()
    try {
      expect(() => { listener.setServerCertificate(other.pem, first.keyPem) }).toThrow(expect.objectContaining({ code: 'TLS_SETUP_FAILED' }))
      expect(await served(port)).toBe(fingerprintOf(first.pem))
      // the refused pair was not kept as the listener's context: a CA change still swaps
      expect(() => { listener.setCaPems([root.pem]) }).not.toThrow()
      expect(await served(port)).toBe(fingerprintOf(first.pem))
      listener.setServerCertificate(other.pem, other.keyPem)
      expect(await served(port)).toBe(fingerprintOf(other.pem))
    } finally {
      await listener.close()
      await new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
    }
  })

  it('closes a connection that sends nothing once mqtts.handshakeTimeoutMs has passed', async () => {
    const leaf = await pki.leaf('stalled', root, { cn: 'localhost', eku: 'serverAuth', san: ['DNS:localhost', 'IP:127.0.0.1'] })
    const broker = await Aedes.createBroker()
    const listener = new MqttsListener(broker, {
      host: '127.0.0.1', port: 0, certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, caPems: [], handshakeTimeoutMs: 300
    }, createLogger('silent'))
    const { port } = await listener.listen()
    // a bare TCP connection, as a stalled or slowloris client leaves it: no ClientHello
    const socket = tcpConnect(port, '127.0.0.1')
    socket.on('error', () => {})
    let closed = false
    socket.once('close', () => { closed = true })
    try {
      await waitFor(() => closed, { timeoutMs: 5000, what: 'the listener to close the stalled connection' })
    } finally {
      socket.destroy()
      await listener.close()
      await new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
    }
  })
})
