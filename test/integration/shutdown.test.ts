/**
 * Stopping the broker ends every connection, not only those of clients aedes knows: a device in
 * its TLS handshake or between the handshake and its CONNECT (a reconnect storm has many) used
 * to keep the process alive after "certmq stopped" until its CONNECT timeout, 30 s by default,
 * past a supervisor's grace period.
 */
import { connect as tcpConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { describe, it } from 'vitest'
import { startCertmq } from '../helpers/certmq.js'
import { waitFor } from '../helpers/wait-for.js'

function closed (socket: Socket): { done: () => boolean } {
  let ended = false
  socket.once('close', () => { ended = true })
  socket.on('error', () => {})
  return { done: () => ended }
}

describe('stopping certmq', () => {
  it('closes connections that never sent CONNECT, in or after their TLS handshake', async () => {
    const certmq = await startCertmq()
    // a TLS connection that completed its handshake and sent nothing more
    const quiet = await new Promise<Socket>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: certmq.mqttsPort, servername: 'localhost', ca: certmq.serverCaPem }, () => { resolve(socket) })
      socket.once('error', reject)
    })
    // a TCP connection that never started its handshake
    const raw = await new Promise<Socket>((resolve, reject) => {
      const socket = tcpConnect({ host: '127.0.0.1', port: certmq.mqttsPort }, () => { resolve(socket) })
      socket.once('error', reject)
    })
    const quietClosed = closed(quiet)
    const rawClosed = closed(raw)
    await certmq.stop()
    // the CONNECT timeout (mqtts.connectTimeoutMs) is 30 s: well inside it, both are gone
    await waitFor(() => quietClosed.done() && rawClosed.done(), { timeoutMs: 5000, what: 'both connections closed by the stop' })
  })
})
