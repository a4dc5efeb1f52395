/**
 * The `certmq` command table. Operator commands talk to the admin API through api-client.ts;
 * `serve` is registered by the caller (src/main.ts) so this module never starts a server itself.
 * runCli returns the exit code and never calls process.exit.
 */
import { readFile } from 'node:fs/promises'
import { text } from 'node:stream/consumers'
import { Command, CommanderError } from 'commander'
import { CertmqError } from '../errors.js'
import { AdminApiClient, DEFAULT_ADMIN_URL } from './api-client.js'
import { numberArgument } from './arguments.js'
import { MAX_TIMER_MS } from '../timers.js'
import { registerCaCommands } from './commands/ca.js'
import { registerCertCommands } from './commands/cert.js'
import { registerSimulateCommand } from './commands/simulate.js'
import { registerEventsCommand } from './commands/events.js'
import { registerBackupCommands } from './commands/backup.js'
import { Output, type TextSink } from './output.js'
import { EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE } from './exit-codes.js'

export interface RunCliOptions {
  /** Adds `certmq serve [--config path]`, which resolves with the exit code. */
  serve?: (opts: { config?: string }) => Promise<number>
  /** Where CERTMQ_ADMIN_URL / CERTMQ_ADMIN_TOKEN are read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>
  stdout?: TextSink
  stderr?: TextSink
}

/** What every operator command needs; built lazily so `--help` never touches the network. */
export interface CommandContext {
  client: () => AdminApiClient
  output: () => Output
  /** Reads a PEM file; a missing or unreadable file is a usage error naming the path. */
  readPemFile: (path: string) => Promise<string>
}

interface GlobalOptions {
  url?: string
  token?: string
  json?: boolean
  timeout?: number
}

export async function runCli (argv: string[], options: RunCliOptions = {}): Promise<number> {
  const streams = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr }
  const env = options.env ?? process.env
  const program = new Command('certmq')
  // before any .command(): subcommands copy these settings when they are created
  program
    .exitOverride()
    .configureOutput({
      writeOut: (text) => { streams.stdout.write(text) },
      writeErr: (text) => { streams.stderr.write(text) },
      outputError: (text, write) => { write(`error VALIDATION_FAILED: ${text.replace(/^error: /, '')}`) }
    })
    .showHelpAfterError('(add --help for usage)')
    .description('certmq: MQTT broker that authenticates devices by X.509 client certificates')
    .option('--url <url>', `admin API URL, with or without /api/v1 (env CERTMQ_ADMIN_URL, default ${DEFAULT_ADMIN_URL})`)
    .option('--token <token>', 'admin API bearer token (env CERTMQ_ADMIN_TOKEN)')
    .option('--json', 'print the admin API\'s JSON unchanged')
    .option('--timeout <seconds>', 'give up on an admin API call after this long (env CERTMQ_ADMIN_TIMEOUT, default 30)', timeoutSeconds)
    .addHelpText('after', EXIT_CODES_HELP)

  const globals = (): GlobalOptions => program.opts<GlobalOptions>()
  const output = (): Output => new Output(streams, globals().json === true)
  const context: CommandContext = {
    output,
    client: () => new AdminApiClient({
      url: globals().url ?? nonEmpty(env['CERTMQ_ADMIN_URL']) ?? DEFAULT_ADMIN_URL,
      token: globals().token ?? nonEmpty(env['CERTMQ_ADMIN_TOKEN']),
      timeoutMs: 1000 * (globals().timeout ?? envTimeout(env['CERTMQ_ADMIN_TIMEOUT']) ?? DEFAULT_TIMEOUT_SECONDS)
    }),
    readPemFile: onceFromStdin(readPemFile)
  }

  let exitCode = EXIT_OK
  const serve = options.serve
  if (serve !== undefined) {
    program.command('serve')
      .description('start the broker: MQTTS listener and admin API')
      .option('--config <path>', 'config file (default ./broker.config.json)')
      .action(async (opts: { config?: string }) => {
        // an empty path means none given, as an empty CERTMQ_CONFIG does
        exitCode = await serve(opts.config === undefined || opts.config === '' ? {} : { config: opts.config })
      })
  }
  registerCaCommands(program, context)
  registerCertCommands(program, context)
  registerEventsCommand(program, context)
  registerBackupCommands(program, context)
  registerSimulateCommand(program, context, streams.stderr)

  try {
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the help or the usage message already; exitCode 0 means help was asked for
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
    }
    return output().error(err)
  }
}

/** `read`, with `-` (standard input) allowed once per command: a second `-` would read nothing. */
function onceFromStdin (read: (path: string) => Promise<string>): (path: string) => Promise<string> {
  let stdinRead = false
  return async (path) => {
    if (path === '-') {
      if (stdinRead) throw new CertmqError('VALIDATION_FAILED', 'standard input (-) can be read only once: give the other PEM as a file', { path })
      stdinRead = true
    }
    return await read(path)
  }
}

/** A PEM file's text; `-` reads standard input (`openssl x509 … | certmq ca register -`). */
async function readPemFile (path: string): Promise<string> {
  try {
    return path === '-' ? await text(process.stdin) : await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new CertmqError('VALIDATION_FAILED', `cannot read PEM file ${path}: ${why}`, { path }, { cause: err })
  }
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

const DEFAULT_TIMEOUT_SECONDS = 30
/** A timer's longest delay, in whole seconds: a longer one would fire at once. */
const MAX_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000)
const TIMEOUT_RULE = `must be a number of seconds above 0, at most ${MAX_TIMEOUT_SECONDS}`
const timeoutSeconds = numberArgument((n) => Number.isFinite(n) && n > 0 && n <= MAX_TIMEOUT_SECONDS, TIMEOUT_RULE)

/** CERTMQ_ADMIN_TIMEOUT in seconds; a bad value is a usage error naming the variable. */
function envTimeout (value: string | undefined): number | undefined {
  const given = nonEmpty(value)
  if (given === undefined) return undefined
  const seconds = Number(given)
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
    throw new CertmqError('VALIDATION_FAILED', `CERTMQ_ADMIN_TIMEOUT: ${TIMEOUT_RULE}, got ${JSON.stringify(given)}`)
  }
  return seconds
}
