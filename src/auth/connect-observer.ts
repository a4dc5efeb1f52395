/**
 * What the CONNECT path reports to whoever watches it (metrics today; events may add another).
 * Declared here, by the reporting side, so auth/ depends on no metrics library. Implementations
 * must be cheap and must not throw: they run on every CONNECT.
 */
import type { RejectReason } from '../domain/connect/reasons.js'

/** aedes-hooks.ts calls this once per CONNECT decision. */
export interface ConnectObserver {
  accepted (decisionSeconds: number): void
  rejected (reason: RejectReason, decisionSeconds: number): void
}

/** ConnectService calls this for automatic registration (PRODUCT §1.3). */
export interface RegistrationObserver {
  /** A certificate was registered automatically (the insert committed). */
  autoRegistered (): void
  /** The rate limiter refused a registration attempt. */
  rateLimited (): void
}
