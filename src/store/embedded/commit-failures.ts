/**
 * A failed LMDB commit (a full disk) rejects, besides the promise certmq awaits, promises that
 * lmdb made for itself: msgpackr saving a new record structure with an asynchronous put, and the
 * failure's own `commitError`. Nobody can attach a handler to those, and Node ends the process on
 * an unhandled rejection, dropping every session for what the store already reports. This guard
 * takes those rejections, and only those, while a server runs; anything else stays fatal.
 */

/** The error lmdb rejects a commit's promises with: 'Commit failed …' carrying the cause as a promise. */
function isLmdbCommitFailure (reason: unknown): reason is Error & { commitError: Promise<unknown> } {
  return reason instanceof Error && reason.message.startsWith('Commit failed') &&
    (reason as { commitError?: unknown }).commitError instanceof Promise
}

/**
 * Installs the guard; `onFailure` hears of each commit failure it takes. Returns its removal.
 * Other unhandled rejections are left to other listeners (a test runner's), or, when this is
 * the only one, thrown again as Node would end the process on them.
 */
export function guardLmdbCommitFailures (onFailure: (err: Error) => void): () => void {
  const listener = (reason: unknown): void => {
    if (isLmdbCommitFailure(reason)) {
      reason.commitError.catch(() => {})
      onFailure(reason)
      return
    }
    if (process.listenerCount('unhandledRejection') === 1) throw reason
  }
  process.on('unhandledRejection', listener)
  return () => { process.off('unhandledRejection', listener) }
}
