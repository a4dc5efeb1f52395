/** Entry point of the `certmq` command: hands argv to the CLI. */
import { runCli } from './cli/index.js'
import { serve } from './cli/commands/serve.js'

const code = await runCli(process.argv.slice(2), { serve })
process.exitCode = code
