/**
 * PRODUCT §3 status transitions for client certificates and §2 for CAs, as data. Services pass
 * `allowedFrom` to the store's compare-and-set, so the rule and the atomic write stay together.
 */
import type { CertStatus } from './certificate.js'
import type { CaStatus } from './ca.js'

export type CertAction = 'activate' | 'deactivate' | 'revoke'

export interface CertTransition {
  readonly allowedFrom: readonly CertStatus[]
  readonly to: CertStatus
}

export const CERT_TRANSITIONS: Readonly<Record<CertAction, CertTransition>> = {
  activate: { allowedFrom: ['inactive', 'pending_activation'], to: 'active' },
  deactivate: { allowedFrom: ['active'], to: 'inactive' },
  // irreversible; the API asks for explicit confirmation
  revoke: { allowedFrom: ['active', 'inactive', 'pending_activation'], to: 'revoked' }
}

/** PRODUCT §3: delete is allowed from any status but active. */
export const CERT_DELETABLE_FROM: readonly CertStatus[] = ['inactive', 'pending_activation', 'revoked']

export type CaAction = 'activate' | 'deactivate'

export const CA_TRANSITIONS: Readonly<Record<CaAction, { allowedFrom: readonly CaStatus[]; to: CaStatus }>> = {
  activate: { allowedFrom: ['inactive'], to: 'active' },
  deactivate: { allowedFrom: ['active'], to: 'inactive' }
}

/** Statuses under which a live session must be dropped at once (PRODUCT §1, last paragraph). */
export function sessionMayContinue (status: CertStatus): boolean {
  return status === 'active'
}

/** The status a manual registration starts in. */
export function manualInitialStatus (activate: boolean): CertStatus {
  return activate ? 'active' : 'inactive'
}

/** The status an automatic registration starts in: the CA decides (PRODUCT §1.3). */
export function autoInitialStatus (caAutoActivate: boolean): CertStatus {
  return caAutoActivate ? 'active' : 'pending_activation'
}
