/**
 * A failed LMDB commit (a full disk, a full map) rejects, besides the promise certmq awaits,
 * promises that lmdb made for itself: msgpackr saving a new record structure with an asynchronous
 * put, and the failure's own `commitError`. Nobody can attach a handler to those, and Node ends
 * the process on an unhandled rejection, dropping every session for what the store already
 * reports. This guard takes those rejections, and only those, while a server runs; anything else
 * stays fatal.
 */

/** The error lmdb rejects a commit's promises with: 'Commit failed …' carrying the cause as a promise. */
export function isLmdbCommitFailure (reason: unknown): reason is Error & { commitError: Promise<unknown> } {
  return reason instanceof Error && reason.message.startsWith('Commit failed') &&
    (reason as { commitError?: unknown }).commitError instanceof Promise
}

/** Every guard installed in this process (several servers in one test process): one listener serves them all. */
const guards = new Set<(err: Error, cause: unknown) => void>()

function listener (reason: unknown): void {
  if (isLmdbCommitFailure(reason)) {
    // the cause (ENOSPC, MDB_MAP_FULL, …) says what the operator must do: wait for it
    reason.commitError.then(() => {}, (cause: unknown) => { for (const told of guards) told(reason, cause) })
    return
  }
  // not ours: as without this listener, unless someone else listens (a test runner)
  if (process.listenerCount('unhandledRejection') === 1) throw reason
}

/**
 * Installs the guard; `onFailure` hears of each commit failure it takes, with lmdb's cause.
 * Returns its removal; the last removal takes the listener away.
 */
export function guardLmdbCommitFailures (onFailure: (err: Error, cause: unknown) => void): () => void {
  if (guards.size === 0) process.on('unhandledRejection', listener)
  guards.add(onFailure)
  return () => {
    guards.delete(onFailure)
    if (guards.size === 0) process.off('unhandledRejection', listener)
  }
}
