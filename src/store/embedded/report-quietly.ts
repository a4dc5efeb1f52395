/**
 * Calls a background failure report (a lost batch of audit data) where nothing may throw: in a
 * timer an exception ends the process, in a commit chain it rejects every later flush. A report
 * that throws itself is ignored: there is nothing left to tell it to.
 */
export function reportQuietly<A extends unknown[]> (report: ((...args: A) => void) | undefined, ...args: A): void {
  try {
    report?.(...args)
  } catch { /* nothing left to tell */ }
}
