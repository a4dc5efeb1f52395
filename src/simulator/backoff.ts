/**
 * Reconnect delays the way devices compute them: exponential growth from `initialMs`, capped at
 * `maxMs`, with a random share (`jitter`, 0–1) taken off so a fleet dropped at once does not come
 * back in lockstep. Pure: the random source is a parameter.
 */
export interface BackoffPolicy {
  initialMs: number
  maxMs: number
  factor: number
  /** 0: fixed delays; 1: "full jitter", anywhere between 0 and the exponential delay. */
  jitter: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 }

/** The delay before reconnect attempt `attempt` (0 for the first retry after a failure). */
export function backoffDelay (policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt))
  const jitter = Math.min(1, Math.max(0, policy.jitter))
  return Math.round(exponential * (1 - jitter * random()))
}
