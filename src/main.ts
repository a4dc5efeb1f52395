/** Entry point of the `certmq` command: hands argv to the CLI. */
import { directServeOptions } from './cli/serve-argv.js'
import { isCertmqError } from './errors.js'

// the server's modules load only for `serve`, and a plain `serve` loads nothing else: operator
// commands start without the server, and the broker's heap holds no command-line machinery
const serve = async (opts: { config?: string }): Promise<number> => await (await import('./cli/commands/serve.js')).serve(opts)
const argv = process.argv.slice(2)
const direct = directServeOptions(argv)
process.exitCode = direct === undefined
  ? await (await import('./cli/index.js')).runCli(argv, { serve })
  : await serve(direct).catch((err: unknown) => {
    // as runCli words a failure; exit 1 as docs/operations.md says for any start-up failure
    process.stderr.write(`error ${isCertmqError(err) ? err.code : 'INTERNAL'}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  })
