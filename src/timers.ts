/** Timer facts and helpers shared by the broker, the CLI and the scripts. */

/** A Node timer's longest delay (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647

/** The promise's value, or `otherwise` when `ms` pass first; the timer does not outlive the race. */
export async function within<T> (promise: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => { timer = setTimeout(() => { resolve(otherwise) }, ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
