/**
 * The MQTTS listener: TLS with a requested client certificate. Every handshake is allowed to
 * finish (rejectUnauthorized: false) so a refused device gets a CONNACK with a reason instead of
 * a TLS alert; the certificate decision is certmq's own (auth/). The CA list is only the
 * CertificateRequest hint (mqtts.advertiseCas) and is swapped at run time without touching live
 * connections. Empty, the context trusts nothing, not even Node's bundled roots: OpenSSL verifies
 * no chain up to a trusted CA, a verdict nobody reads.
 */
import { createServer, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls'
import type { AddressInfo, Socket } from 'node:net'
import type { Aedes } from 'aedes'
import type { Logger } from '../log.js'
import { CertmqError } from '../errors.js'

export interface MqttsListenerOptions {
  host: string
  port: number
  certificatePem: string
  privateKeyPem: string
  caPems: string[]
  handshakeTimeoutMs: number
}

export class MqttsListener {
  private readonly server: Server
  private listening = false
  /** Every TCP connection accepted and not yet closed, whether or not its TLS handshake or CONNECT came. */
  private readonly sockets = new Set<Socket>()
  /** What the TLS context is made of; a swap (new CA list, renewed certificate) changes one part. */
  private context: { key: string, cert: string, ca: string[] }

  constructor (private readonly broker: Aedes, private readonly options: MqttsListenerOptions, private readonly log: Logger) {
    this.context = { key: options.privateKeyPem, cert: options.certificatePem, ca: options.caPems }
    try {
      this.server = createServer({
        ...this.contextOptions(),
        requestCert: true,
        rejectUnauthorized: false,
        handshakeTimeout: options.handshakeTimeoutMs,
        // MQTT packets are small and latency-bound: without this a CONNACK written while the
        // TLS session tickets are still unacknowledged waits for the client's delayed ACK (~40 ms)
        noDelay: true
      }, (socket: TLSSocket) => { broker.handle(socket) })
    } catch (err) {
      throw new CertmqError('TLS_SETUP_FAILED', `mqtts: cannot use the server key, certificate or CA list (${(err as Error).message})`, {}, { cause: err })
    }
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => { this.sockets.delete(socket) })
    })
    this.server.on('tlsClientError', (err, socket) => {
      log.debug({ event: 'tls.failed', remoteAddress: socket.remoteAddress, err: err.message }, 'TLS handshake failed')
      // tls.Server only reports a handshake that outlived handshakeTimeout (ERR_TLS_HANDSHAKE_TIMEOUT)
      // and leaves the socket open, unlike https.Server: a client that connects and sends
      // nothing would hold its socket for good. Other handshake errors have closed it already.
      socket.destroy()
    })
  }

  /**
   * Replaces the CA hint list for new handshakes; live connections are untouched. A new context
   * has new session-ticket keys: sessions made before are not resumed.
   */
  setCaPems (caPems: string[]): void {
    this.swap({ ...this.context, ca: caPems })
  }

  /**
   * Serves a new certificate (a renewal, a reload) from the next handshake on; live connections
   * are untouched. Throws TLS_SETUP_FAILED, serving the previous one still, when OpenSSL refuses it.
   */
  setServerCertificate (certificatePem: string, privateKeyPem: string): void {
    this.swap({ ...this.context, key: privateKeyPem, cert: certificatePem })
  }

  /** Installs a context; kept as the current one only once OpenSSL took it, so a refused swap spoils no later one. */
  private swap (next: { key: string, cert: string, ca: string[] }): void {
    try {
      this.server.setSecureContext(this.contextOptions(next))
    } catch (err) {
      throw new CertmqError('TLS_SETUP_FAILED', `mqtts: cannot use the server key, certificate or CA list (${(err as Error).message})`, {}, { cause: err })
    }
    this.context = next
  }

  /** The secure-context options, the same at creation and at every swap (a new context inherits none of the old). */
  private contextOptions ({ key, cert, ca } = this.context): SecureContextOptions {
    // an empty array, not undefined: undefined would load Node's bundled root CAs
    return { key, cert, ca, minVersion: 'TLSv1.2' }
  }

  async listen (): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.listening = true
    return this.server.address() as AddressInfo
  }

  get isListening (): boolean {
    return this.listening
  }

  /**
   * Stops accepting connections. Live ones stay until the broker closes its clients (server.ts
   * closes it next): waiting here for them to end would wait for every connected device to leave.
   */
  async close (): Promise<void> {
    if (!this.listening) return
    this.listening = false
    this.server.close()
  }

  /**
   * Ends the connections left once the broker has closed its clients: those still in their TLS
   * handshake or not yet past CONNECT, which aedes does not know as clients. Each would otherwise
   * keep the process alive until its handshake or CONNECT timeout (30 s by default).
   */
  destroyConnections (): void {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
  }
}
