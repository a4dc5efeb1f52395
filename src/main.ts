/** Entry point of the `certmq` command: hands argv to the CLI. */
import { directServeOptions } from './cli/serve-argv.js'
import { isCertmqError } from './errors.js'

// the server's modules load only for `serve`, and a plain `serve` loads nothing else: operator
// commands start without the server, and the broker's heap holds no command-line machinery
const serve = async (opts: { config?: string }): Promise<number> => await (await import('./cli/commands/serve.js')).serve(opts)
const argv = process.argv.slice(2)
const direct = directServeOptions(argv)
process.exitCode = direct === undefined
  ? await runCommand(argv)
  : await serve(direct).catch((err: unknown) => {
    // as runCli words a failure; exit 1 as docs/operations.md says for any start-up failure
    process.stderr.write(`error ${isCertmqError(err) ? err.code : 'INTERNAL'}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  })

/** The full command table on the real process streams. */
async function runCommand (args: string[]): Promise<number> {
  const [{ runCli }, { exitQuietlyWhenReaderCloses }] = await Promise.all([import('./cli/index.js'), import('./cli/output.js')])
  // before runCli writes anything (commander's --help included); a plain `serve` skips this: its
  // logs go to fd 1 through pino's own stream, not process.stdout
  exitQuietlyWhenReaderCloses(process.stdout)
  return await runCli(args, { serve })
}
