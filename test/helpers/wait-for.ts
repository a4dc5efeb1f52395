/** Polls a condition until it holds or the deadline passes. No fixed sleeps in tests. */
export async function waitFor<T> (check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}):
  Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000)
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last instanceof Error ? `: ${last.message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10))
  }
}
