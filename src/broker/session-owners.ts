/**
 * How each persistent session (clean=false) of this node ends, besides a clean reconnect:
 * - with its certificate: when the certificate whose device made or last resumed the session is
 *   revoked or deleted, its subscriptions and the messages queued for it are discarded. Without
 *   this, a revoked device's session kept collecting messages, and after a delete freed its
 *   registered Client ID, the next certificate given that Client ID resumed the old device's
 *   session and received what was queued for it. A deactivation is reversible and keeps the session;
 * - by expiry: a session whose device has been away `expiryMs` is discarded, so devices taken out
 *   of service without a revocation do not keep their subscriptions and queues for ever.
 * Sessions live in this node's memory only (aedes' in-memory persistence), so what this process
 * has seen is the whole of them.
 */
import type { Logger } from '../log.js'
import type { StatusBus, StatusEvent } from '../store/ports.js'
import { MAX_TIMER_MS } from '../timers.js'
import type { BoundedMemoryPersistence } from './bounded-persistence.js'
import { Grouped } from './grouped.js'

type SessionStore = Pick<BoundedMemoryPersistence, 'isConnected' | 'discardSession'>

/** Why a persistent session was discarded (the `reason` of `session.discarded` and of the metric). */
export const DISCARD_REASONS = ['certificate_revoked', 'certificate_deleted', 'expired'] as const
export type DiscardReason = (typeof DISCARD_REASONS)[number]

export interface SessionOwnersOptions {
  /** A session whose device has been away this long is discarded; 0: never. */
  expiryMs: number
  /** Milliseconds on a monotonic clock (a change of the wall clock must not expire sessions). */
  clock?: () => number
  /** A session that held subscriptions or messages was discarded. */
  onDiscarded?: (reason: DiscardReason) => void
}

export class SessionOwners {
  /** client ID → fingerprint of the certificate whose device last resumed or made that session. */
  private readonly owners = new Map<string, string>()
  /**
   * fingerprint → the client IDs it owns: a status event looks up its certificate's sessions
   * instead of scanning every session (a CA deleted with 100k certificates sends 100k events).
   */
  private readonly byFingerprint = new Grouped<string, string>()
  /** Sessions whose certificate went while its device was still connected: discarded once it is gone. */
  private readonly pending = new Map<string, { fingerprint: string, reason: DiscardReason }>()
  /**
   * Sessions whose device is away → when it went (clock ms). A disconnect is put at the end, so
   * the map is in the order the sessions expire, and the first entry is the next to.
   */
  private readonly away = new Map<string, number>()
  private expiryTimer: NodeJS.Timeout | undefined
  private readonly unsubscribe: () => void
  private readonly expiryMs: number
  private readonly clock: () => number
  private readonly onDiscarded: ((reason: DiscardReason) => void) | undefined

  constructor (bus: StatusBus, private readonly sessions: SessionStore, private readonly log: Logger, options: SessionOwnersOptions) {
    this.expiryMs = options.expiryMs
    this.clock = options.clock ?? (() => performance.now())
    this.onDiscarded = options.onDiscarded
    this.unsubscribe = bus.subscribe((event) => { this.onStatus(event) })
  }

  /** How many persistent sessions are held for devices that are away. */
  get awayCount (): number {
    return this.away.size
  }

  /** A device was admitted: a persistent session is now its certificate's; a clean one ends any before it. */
  connected (clientId: string, fingerprint: string, clean: boolean): void {
    this.away.delete(clientId)
    if (clean) this.forget(clientId)
    else if (this.owners.get(clientId) !== fingerprint) {
      this.forget(clientId)
      this.owners.set(clientId, fingerprint)
      this.byFingerprint.add(fingerprint, clientId)
    }
  }

  /**
   * A device went: its session is discarded now if its certificate was revoked or deleted
   * meanwhile, else it is kept until it expires.
   */
  disconnected (clientId: string): void {
    const fingerprint = this.owners.get(clientId)
    const pending = this.pending.get(clientId)
    if (pending !== undefined) {
      this.pending.delete(clientId)
      if (fingerprint === pending.fingerprint) {
        this.discard(clientId, pending.fingerprint, pending.reason)
        return
      }
    }
    // a clean session ends with its connection; and another device may hold this client ID now
    // (a takeover closes the one before): expire() checks that the session's device is away
    if (fingerprint === undefined) return
    this.away.delete(clientId)
    this.away.set(clientId, this.clock())
    if (this.expiryMs > 0) this.expiryTimer ??= this.schedule(this.expiryMs)
  }

  close (): void {
    this.unsubscribe()
    clearTimeout(this.expiryTimer)
    this.expiryTimer = undefined
  }

  private onStatus (event: StatusEvent): void {
    if (event.kind !== 'certificate' || (event.status !== 'revoked' && event.status !== 'deleted')) return
    const fingerprint = event.id
    const reason = event.status === 'revoked' ? 'certificate_revoked' : 'certificate_deleted'
    for (const clientId of this.byFingerprint.get(fingerprint)) {
      // its live connection is being dropped (sessions.ts): aedes still holds the client
      if (this.sessions.isConnected(clientId)) this.pending.set(clientId, { fingerprint, reason })
      else this.discard(clientId, fingerprint, reason)
    }
  }

  /** Discards every session whose device has been away `expiryMs`, then waits for the next to. */
  private expire (): void {
    this.expiryTimer = undefined
    const now = this.clock()
    for (const [clientId, since] of this.away) {
      const left = since + this.expiryMs - now
      if (left > 0) {
        this.expiryTimer = this.schedule(left)
        return
      }
      this.away.delete(clientId)
      const fingerprint = this.owners.get(clientId)
      // back under this client ID (its CONNECT not yet finished), or its session already ended
      if (fingerprint === undefined || this.sessions.isConnected(clientId)) continue
      this.discard(clientId, fingerprint, 'expired')
    }
  }

  private schedule (ms: number): NodeJS.Timeout {
    // a delay past Node's longest fires early: expire() then finds nothing due and waits again
    return setTimeout(() => { this.expire() }, Math.min(Math.ceil(ms), MAX_TIMER_MS)).unref()
  }

  private forget (clientId: string): void {
    this.away.delete(clientId)
    const fingerprint = this.owners.get(clientId)
    if (fingerprint === undefined) return
    this.owners.delete(clientId)
    this.byFingerprint.delete(fingerprint, clientId)
  }

  private discard (clientId: string, fingerprint: string, reason: DiscardReason): void {
    this.forget(clientId)
    this.sessions.discardSession(clientId).then(({ subscriptions, queued }) => {
      // a device that only publishes leaves nothing to discard (aedes answers its return with
      // session present 0): a fleet of them expiring would write a line each for nothing
      if (subscriptions === 0 && queued === 0) {
        this.log.debug({ event: 'session.discarded', reason, clientId, fingerprint, subscriptions, queued }, `persistent session ${clientId} ended (${reason}); it held nothing`)
        return
      }
      this.onDiscarded?.(reason)
      this.log.info({ event: 'session.discarded', reason, clientId, fingerprint, subscriptions, queued },
        `persistent session ${clientId} discarded (${reason}, ${subscriptions} subscriptions, ${queued} queued messages)`)
    }, (err: unknown) => {
      this.log.warn({ event: 'session.discard_failed', reason, clientId, fingerprint, err }, `could not discard persistent session ${clientId}`)
    })
  }
}
