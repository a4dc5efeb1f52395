/**
 * Live sessions by certificate: PRODUCT §1 "decisions take effect at once". A client is tracked
 * by its certificate fingerprint from the moment its CONNECT is being decided, so a status change
 * that lands while the decision is in flight still finds it.
 */
import type { Client } from 'aedes'
import type { Logger } from '../log.js'
import type { StatusBus, StatusEvent } from '../store/ports.js'
import type { SessionIdentity, TrustStore } from '../auth/trust-store.js'
import type { RejectReason } from '../domain/connect/reasons.js'
import { Grouped } from './grouped.js'

interface Tracked {
  fingerprint: string
  /** Set once admitted: the certificate as registered, which CA changes are rechecked by. */
  identity: SessionIdentity | undefined
  /** The normalized TLS server name the session connected with (CA host bindings). */
  servername: string | undefined
}

export class SessionRegistry {
  private readonly byClient = new Map<Client, Tracked>()
  /** The clients of each certificate: almost always one. */
  private readonly byFingerprint = new Grouped<string, Client>()
  private readonly unsubscribe: () => void

  constructor (bus: StatusBus, private readonly trust: TrustStore, private readonly log: Logger) {
    this.unsubscribe = bus.subscribe((event) => { this.onStatus(event) })
    trust.onChange(() => { this.sweepCas() })
  }

  track (client: Client, fingerprint: string): void {
    this.byClient.set(client, { fingerprint, identity: undefined, servername: undefined })
    this.byFingerprint.add(fingerprint, client)
  }

  /**
   * Called once the client is admitted. Returns why it must be refused after all: its CA changed
   * while the decision was in flight (deactivated, deleted, re-bound, a CRL imported), or a CA on
   * its path registered as a CA of its own refuses it (TrustStore.sessionVerdict: an intermediate
   * it was registered through, a registered CA that issued its CA).
   */
  admit (client: Client, identity: SessionIdentity, servername: string | undefined): RejectReason | undefined {
    const tracked = this.byClient.get(client)
    if (tracked !== undefined) {
      tracked.identity = identity
      tracked.servername = servername
    }
    const verdict = this.trust.sessionVerdict(identity, servername)
    return verdict === 'ca_deleted' ? 'unknown_ca' : verdict
  }

  untrack (client: Client): void {
    const tracked = this.byClient.get(client)
    if (tracked === undefined) return
    this.byClient.delete(client)
    this.byFingerprint.delete(tracked.fingerprint, client)
  }

  fingerprintOf (client: Client): string | undefined {
    return this.byClient.get(client)?.fingerprint
  }

  get size (): number {
    return this.byClient.size
  }

  close (): void {
    this.unsubscribe()
  }

  private onStatus (event: StatusEvent): void {
    if (event.kind === 'certificate' && event.status !== 'active') {
      for (const client of this.byFingerprint.get(event.id)) {
        this.drop(client, event.id, event.status === 'deleted' ? 'deleted' : event.status)
      }
    } else if (event.kind !== 'certificate') {
      // CA changes are seen once the trust store has reloaded: sweepCas runs then
      void this.trust.refresh().catch((err: unknown) => {
        this.log.error({ event: 'trust.refresh_failed', err }, 'could not reload the CA set')
      })
    }
  }

  /**
   * Drops every session its CA no longer admits: CA deleted or deactivated, bound to hosts that
   * exclude the session's server name, or a CRL that lists its serial.
   */
  private sweepCas (): void {
    for (const [client, tracked] of [...this.byClient]) {
      if (tracked.identity === undefined) continue
      const verdict = this.trust.sessionVerdict(tracked.identity, tracked.servername)
      if (verdict !== undefined) this.drop(client, tracked.fingerprint, verdict)
    }
  }

  private drop (client: Client, fingerprint: string, reason: string): void {
    this.untrack(client)
    this.log.info({ event: 'session.dropped', reason, fingerprint, clientId: client.id }, 'live session dropped')
    client.close()
  }
}
