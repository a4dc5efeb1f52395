/**
 * Child process for test/unit/store/commit-failures.test.ts: installs the lmdb commit-failure
 * guard as the only unhandledRejection listener, then leaves an unrelated rejection unhandled,
 * which must still end the process as Node would.
 */
import { guardLmdbCommitFailures } from '../../src/store/embedded/commit-failures.js'

guardLmdbCommitFailures(() => {})
void Promise.reject(new Error('an unrelated failure nobody handled'))
setTimeout(() => { process.stdout.write('still running\n') }, 500)
