/** Stopping what was started, last first. */

/** One step of a stop: closes one thing that was started. */
export type StopStep = () => Promise<void> | void

/**
 * Runs `steps` last first, every one of them even when one fails: a failed step (a listener that
 * would not close) must not leave the store open and its last writes uncommitted. Each failure is
 * told to `failed`; the first is thrown once every step has run.
 */
export async function unwind (steps: readonly StopStep[], failed: (err: unknown) => void): Promise<void> {
  let first: { err: unknown } | undefined
  for (let i = steps.length - 1; i >= 0; i--) {
    try {
      await (steps[i] as StopStep)()
    } catch (err) {
      failed(err)
      first ??= { err }
    }
  }
  if (first !== undefined) throw first.err
}
