/**
 * Whether an uploaded CRL may replace the one in force (PRODUCT §2, RFC 5280 §5.1.2.4–5): it
 * must not be dated in the future, must not be past its nextUpdate (stale), and must not be
 * older than the CRL already in force (no roll-back to a list with fewer revocations).
 */
import type { CaCrlState } from './ca.js'

/** Clock difference tolerated between the CA that signed the CRL and this broker. */
export const CRL_CLOCK_SKEW_MS = 60_000

export interface CrlDates {
  thisUpdate: Date
  nextUpdate: Date | undefined
}

export type CrlDateProblem = { code: 'CRL_INVALID' | 'CRL_STALE'; message: string }

export function checkCrlDates (dates: CrlDates, nowMs: number, current: CaCrlState | undefined): CrlDateProblem | undefined {
  const thisUpdate = dates.thisUpdate.getTime()
  if (thisUpdate > nowMs + CRL_CLOCK_SKEW_MS) {
    return { code: 'CRL_INVALID', message: `thisUpdate ${dates.thisUpdate.toISOString()} is in the future` }
  }
  if (dates.nextUpdate !== undefined && dates.nextUpdate.getTime() < nowMs) {
    return { code: 'CRL_STALE', message: `nextUpdate ${dates.nextUpdate.toISOString()} has passed: the CRL is stale` }
  }
  const inForce = current?.thisUpdate ?? null
  if (inForce !== null && thisUpdate < Date.parse(inForce)) {
    return { code: 'CRL_STALE', message: `thisUpdate ${dates.thisUpdate.toISOString()} is older than the CRL in force (${inForce})` }
  }
  return undefined
}
