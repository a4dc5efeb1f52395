/** Entry point of the `certmq` command: hands argv to the CLI. */
import { runCli } from './cli/index.js'

// the server's modules load only for `serve`: operator commands start without them
const serve = async (opts: { config?: string }): Promise<number> => await (await import('./cli/commands/serve.js')).serve(opts)
const code = await runCli(process.argv.slice(2), { serve })
process.exitCode = code
