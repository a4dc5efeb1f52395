/**
 * The only file that knows aedes' callbacks. STACK.md: preConnect cannot send a CONNACK, and
 * aedes assigns (or rejects) the client ID before authenticate runs. So the decision is made in
 * preConnect, where the resolved client ID can still be written into the packet, and announced
 * in authenticate, where an error with `returnCode` becomes the CONNACK code.
 */
import type { TLSSocket } from 'node:tls'
import type { Client } from 'aedes'
import type { AedesOptions } from 'aedes'
import type { Logger } from '../log.js'
import { connackCodeFor } from '../domain/connect/reasons.js'
import { normalizeServerName } from '../domain/ca-hosts.js'
import type { RegistryStore } from '../store/ports.js'
import type { SessionRegistry } from '../broker/sessions.js'
import type { SessionOwners } from '../broker/session-owners.js'
import { ConnectService, type ConnectOutcome } from './connect-service.js'
import type { ConnectObserver } from './connect-observer.js'

export interface AuthHookDeps {
  connect: ConnectService
  sessions: SessionRegistry
  /** Which certificate holds each persistent session; absent where nothing ends sessions with certificates. */
  owners?: Pick<SessionOwners, 'connected' | 'disconnected'>
  store: RegistryStore
  nodeName: string
  log: Logger
  now: () => Date
  /** Told about every decision (metrics, events); must be cheap. */
  observer?: ConnectObserver
}

type Hooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate'>>
type ConnectPacket = Parameters<Hooks['preConnect']>[1]
type PreConnectCallback = Parameters<Hooks['preConnect']>[2]

export interface AuthHooks extends Hooks {
  /** aedes 'clientReady': the CONNACK went out; record the associated client. */
  onClientReady (client: Client): void
  /** aedes 'clientDisconnect'. */
  onClientDisconnect (client: Client): void
}

export function createAuthHooks (deps: AuthHookDeps): AuthHooks {
  /**
   * Each client's decision, with its peer address as read at CONNECT (the socket may be gone by
   * clientReady): one entry per client, since every WeakMap entry is more work for each full GC.
   */
  const decisions = new WeakMap<Client, { outcome: ConnectOutcome, remoteAddress: string }>()
  const { log } = deps
  // one handler each, not a closure per connect and disconnect
  const connectNotRecorded = (err: unknown): void => { log.warn({ event: 'store.failed', err }, 'could not record the associated client') }
  const disconnectNotRecorded = (err: unknown): void => { log.warn({ event: 'store.failed', err }, 'could not record the disconnect') }
  /**
   * Made here, not inside preConnect: a closure there would share preConnect's context (the leaf
   * certificate, the packet, the callbacks) and keep it alive as long as the connection lasts.
   * 'close' is emitted once, so `on` serves and spares the wrapper `once` allocates.
   */
  const untrackOnClose = (socket: TLSSocket, client: Client): void => {
    socket.on('close', () => { deps.sessions.untrack(client) })
  }
  const recordDisconnect = (client: Client): void => {
    const outcome = decisions.get(client)?.outcome
    if (outcome?.ok !== true) return
    deps.store.recordClientDisconnected(outcome.record.id, client.id, deps.nodeName, deps.now().toISOString()).catch(disconnectNotRecorded)
    deps.owners?.disconnected(client.id)
  }

  /**
   * Acts on a decision: the CA recheck, the decision kept for authenticate(), the client ID
   * written into the packet, aedes told to go on; then the log line and the observer. A plain
   * function of its arguments: preConnect makes no closure on the usual, synchronous path.
   */
  const settle = (client: Client, packet: ConnectPacket, callback: PreConnectCallback, decided: ConnectOutcome,
    fingerprint: string | undefined, remoteAddress: string | undefined, servername: string | undefined, started: number): void => {
    let outcome = decided
    if (outcome.ok) {
      const late = deps.sessions.admit(client, outcome.record, servername)
      if (late !== undefined) outcome = ConnectService.refusal(late, outcome.record)
    }
    // PRODUCT §1.4: an empty client ID takes the registered Client ID, else the CN
    if (outcome.ok && (packet.clientId === '' || packet.clientId === undefined)) packet.clientId = outcome.clientId
    if (!outcome.ok && fingerprint !== undefined) deps.sessions.untrack(client)
    // the decision is kept right before aedes is told: fail() reads a kept decision as "told"
    decisions.set(client, { outcome, remoteAddress: remoteAddress ?? '' })
    // aedes goes on in a setImmediate: what follows still runs before the CONNACK leaves
    callback(null, true)
    const elapsedMs = performance.now() - started
    if (outcome.ok) {
      // debug: a fleet reconnecting would write a line per device; /metrics counts them and the
      // certificate's associated clients record them. Refusals stay at info, with their reason.
      // Guarded, so the line's object is not even built when debug is off
      if (log.isLevelEnabled('debug')) {
        log.debug({
          event: 'connect.accepted',
          fingerprint: outcome.record.id,
          serial: outcome.record.serialNumber,
          caId: outcome.record.caId,
          clientId: outcome.clientId,
          autoRegistered: outcome.autoRegistered,
          ...where(remoteAddress, servername, deps.nodeName, elapsedMs)
        }, 'connection accepted')
      }
      deps.observer?.accepted(elapsedMs / 1000)
      return
    }
    log.info({
      event: 'connect.rejected',
      reason: outcome.reason,
      detail: outcome.detail,
      returnCode: connackCodeFor(outcome.reason),
      fingerprint: outcome.identity?.fingerprint,
      serial: outcome.identity?.serialNumber,
      caId: outcome.identity?.caId,
      clientId: packet.clientId,
      ...where(remoteAddress, servername, deps.nodeName, elapsedMs)
    }, 'connection rejected')
    deps.observer?.rejected({
      reason: outcome.reason,
      fingerprint: outcome.identity?.fingerprint ?? fingerprint,
      serial: outcome.identity?.serialNumber,
      caId: outcome.identity?.caId,
      clientId: packet.clientId,
      remoteAddress,
      node: deps.nodeName
    }, elapsedMs / 1000)
    if (outcome.cause !== undefined) log.warn({ event: 'store.failed', err: outcome.cause }, 'registry lookup failed during CONNECT')
  }
  /**
   * A decision that waits on the store (an unknown certificate, or a store with no synchronous
   * read). Outside preConnect, so its callbacks do not make preConnect's variables a heap context
   * on every CONNECT.
   */
  const settleLater = (decision: Promise<ConnectOutcome>, client: Client, packet: ConnectPacket, callback: PreConnectCallback,
    fingerprint: string | undefined, remoteAddress: string | undefined, servername: string | undefined, started: number): void => {
    decision
      .then((decided) => { settle(client, packet, callback, decided, fingerprint, remoteAddress, servername, started) })
      .catch((err: unknown) => { fail(client, callback, remoteAddress, err) })
  }
  /**
   * A bug in the code above (authenticate() answers every registry failure itself): refuse,
   * unless aedes was already told (settle keeps the decision right before telling it).
   */
  const fail = (client: Client, callback: PreConnectCallback, remoteAddress: string | undefined, err: unknown): void => {
    log.error({ event: 'connect.failed', err }, 'CONNECT decision failed')
    if (decisions.has(client)) return
    decisions.set(client, { outcome: { ok: false, reason: 'store_unavailable' }, remoteAddress: remoteAddress ?? '' })
    callback(null, true)
  }

  return {
    preConnect (client, packet, callback) {
      const socket = client.conn as TLSSocket
      // read while the CONNECT is decided: a device that leaves at once (a stolen certificate
      // tried and dropped) is closed by clientReady, and a closed socket has no address left
      const remoteAddress = socket.remoteAddress
      const leaf = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined
      const fingerprint = leaf === undefined ? undefined : ConnectService.fingerprintOf(leaf)
      if (packet.protocolVersion !== 4 && packet.protocolVersion !== 3) {
        // aedes refuses it with CONNACK 1 after this hook: decide nothing (no automatic
        // registration, no accepted count), only say why, naming the certificate
        const refused: ConnectOutcome = { ok: false, reason: 'unsupported_protocol', ...(fingerprint === undefined ? {} : { identity: { fingerprint } }) }
        settle(client, packet, callback, refused, undefined, remoteAddress, normalizeServerName(socket.servername), performance.now())
        return
      }
      if (fingerprint !== undefined) {
        deps.sessions.track(client, fingerprint)
        untrackOnClose(socket, client)
      }
      const started = performance.now()
      // PRODUCT §2 host binding: the server name the device asked for in its TLS ClientHello
      const servername = normalizeServerName(socket.servername)
      try {
        const outcome = deps.connect.authenticate({ leaf, packetClientId: packet.clientId ?? '', clean: packet.clean !== false, protocolVersion: packet.protocolVersion, servername }, fingerprint)
        // a registered certificate is usually decided at once, and aedes sends the CONNACK in the
        // next check phase of the event loop, with no wait on the store
        if (outcome instanceof Promise) settleLater(outcome, client, packet, callback, fingerprint, remoteAddress, servername, started)
        else settle(client, packet, callback, outcome, fingerprint, remoteAddress, servername, started)
      } catch (err) {
        fail(client, callback, remoteAddress, err)
      }
    },

    authenticate (client, _username, _password, done) {
      const outcome = decisions.get(client)?.outcome
      if (outcome?.ok === true) {
        done(null, true)
        return
      }
      const reason = outcome?.reason ?? 'no_certificate'
      const error = Object.assign(new Error(`connection refused: ${reason}`), { returnCode: connackCodeFor(reason) })
      done(error, false)
    },

    onClientReady (client) {
      const decision = decisions.get(client)
      const outcome = decision?.outcome
      if (decision === undefined || outcome?.ok !== true) return
      const at = deps.now().toISOString()
      deps.store.recordClientConnected(outcome.record.id, {
        clientId: client.id,
        connected: true,
        remoteAddress: decision.remoteAddress,
        node: deps.nodeName,
        connectedAt: at,
        lastSeenAt: at
      }).catch(connectNotRecorded)
      deps.owners?.connected(client.id, outcome.record.id, client.clean)
      // a device that closed while aedes finished its CONNECT had its clientDisconnect before this
      // clientReady: that disconnect found no entry, so record it after the connect
      if (client.closed) recordDisconnect(client)
    },

    onClientDisconnect: recordDisconnect
  }
}

/** The fields every decision line carries: where the device came from and how long the decision took. */
function where (remoteAddress: string | undefined, servername: string | undefined, node: string, elapsedMs: number):
  { remoteAddress: string | undefined, servername: string | undefined, node: string, ms: number } {
  return { remoteAddress, servername, node, ms: round(elapsedMs) }
}

function round (ms: number): number {
  return Math.round(ms * 100) / 100
}
