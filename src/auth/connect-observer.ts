/**
 * What the CONNECT path reports to whoever watches it (metrics, the event log). Declared here, by
 * the reporting side, so auth/ depends on neither; server.ts composes the watchers. Implementations
 * must be cheap and must not throw: they run on every CONNECT.
 */
import type { CertificateRecord } from '../domain/certificate.js'
import type { RejectReason } from '../domain/connect/reasons.js'

/** Who was refused: what the log line says, for the event log's aggregation. */
export interface RefusedConnect {
  reason: RejectReason
  /** SHA-256 of the presented leaf; absent when the client sent no certificate. */
  fingerprint?: string | undefined
  serial?: string | undefined
  caId?: string | undefined
  clientId?: string | undefined
  remoteAddress?: string | undefined
  node?: string | undefined
}

/** aedes-hooks.ts calls this once per CONNECT decision. */
export interface ConnectObserver {
  accepted (decisionSeconds: number): void
  rejected (refused: RefusedConnect, decisionSeconds: number): void
}

/** ConnectService calls this for automatic registration (PRODUCT §1.3). */
export interface RegistrationObserver {
  /** A certificate was registered automatically (the insert committed). */
  autoRegistered (record: CertificateRecord): void
  /** The rate limiter refused a registration attempt. */
  rateLimited (): void
}

/** One observer that tells each of `observers`, in order. */
export function observeAll (observers: ReadonlyArray<ConnectObserver & RegistrationObserver>): ConnectObserver & RegistrationObserver {
  return {
    accepted: (seconds) => { for (const o of observers) o.accepted(seconds) },
    rejected: (refused, seconds) => { for (const o of observers) o.rejected(refused, seconds) },
    autoRegistered: (record) => { for (const o of observers) o.autoRegistered(record) },
    rateLimited: () => { for (const o of observers) o.rateLimited() }
  }
}
