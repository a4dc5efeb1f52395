/**
 * Which certificate holds each persistent session (clean=false) of this node, so that the session
 * goes with the certificate: when it is revoked or deleted, its subscriptions and the messages
 * queued for it are discarded. Without this, a revoked device's session kept
 * collecting messages, and after a delete freed its registered Client ID, the next certificate
 * given that Client ID resumed the old device's session and received what was queued for it.
 * A deactivation is reversible and keeps the session. Sessions live in this node's memory only
 * (aedes' in-memory persistence), so what this process has seen is the whole of them.
 */
import type { Logger } from '../log.js'
import type { StatusBus, StatusEvent } from '../store/ports.js'
import type { BoundedMemoryPersistence } from './bounded-persistence.js'
import { Grouped } from './grouped.js'

type SessionStore = Pick<BoundedMemoryPersistence, 'isConnected' | 'discardSession'>

export class SessionOwners {
  /** client ID → fingerprint of the certificate whose device last resumed or made that session. */
  private readonly owners = new Map<string, string>()
  /**
   * fingerprint → the client IDs it owns: a status event looks up its certificate's sessions
   * instead of scanning every session (a CA deleted with 100k certificates sends 100k events).
   */
  private readonly byFingerprint = new Grouped<string, string>()
  /** Sessions whose certificate went while its device was still connected: discarded once it is gone. */
  private readonly pending = new Map<string, string>()
  private readonly unsubscribe: () => void

  constructor (bus: StatusBus, private readonly sessions: SessionStore, private readonly log: Logger) {
    this.unsubscribe = bus.subscribe((event) => { this.onStatus(event) })
  }

  /** A device was admitted: a persistent session is now its certificate's; a clean one ends any before it. */
  connected (clientId: string, fingerprint: string, clean: boolean): void {
    if (clean) this.forget(clientId)
    else if (this.owners.get(clientId) !== fingerprint) {
      this.forget(clientId)
      this.owners.set(clientId, fingerprint)
      this.byFingerprint.add(fingerprint, clientId)
    }
  }

  /** A device went: its session is discarded now if its certificate was revoked or deleted meanwhile. */
  disconnected (clientId: string): void {
    const fingerprint = this.pending.get(clientId)
    if (fingerprint === undefined) return
    this.pending.delete(clientId)
    if (this.owners.get(clientId) === fingerprint) this.discard(clientId, fingerprint)
  }

  close (): void {
    this.unsubscribe()
  }

  private onStatus (event: StatusEvent): void {
    if (event.kind !== 'certificate' || (event.status !== 'revoked' && event.status !== 'deleted')) return
    const fingerprint = event.id
    for (const clientId of this.byFingerprint.get(fingerprint)) {
      // its live connection is being dropped (sessions.ts): aedes still holds the client
      if (this.sessions.isConnected(clientId)) this.pending.set(clientId, fingerprint)
      else this.discard(clientId, fingerprint)
    }
  }

  private forget (clientId: string): void {
    const fingerprint = this.owners.get(clientId)
    if (fingerprint === undefined) return
    this.owners.delete(clientId)
    this.byFingerprint.delete(fingerprint, clientId)
  }

  private discard (clientId: string, fingerprint: string): void {
    this.forget(clientId)
    this.sessions.discardSession(clientId).then((queued) => {
      this.log.info({ event: 'session.discarded', clientId, fingerprint, queued },
        `persistent session ${clientId} discarded with its certificate (${queued} queued messages)`)
    }, (err: unknown) => {
      this.log.warn({ event: 'session.discard_failed', clientId, fingerprint, err }, `could not discard persistent session ${clientId}`)
    })
  }
}
