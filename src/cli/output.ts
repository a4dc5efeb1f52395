/**
 * What the CLI prints and how it exits: readable tables and fields by default, the API's JSON
 * unchanged with --json, errors as `error CODE: message` on stderr (STYLE §3), and the exit codes
 * listed in EXIT_CODES_HELP.
 */
import { CertmqError } from '../errors.js'
import { AdminApiError } from './api-client.js'
import {
  EXIT_API_ERROR, EXIT_BACKUP_INVALID, EXIT_CONFIG_INVALID, EXIT_MONITOR_REFUSED, EXIT_OK, EXIT_STORE_UNAVAILABLE, EXIT_UNREACHABLE, EXIT_USAGE
} from './exit-codes.js'

/** Where the CLI writes; process.stdout / process.stderr outside tests. */
export interface TextSink {
  write (text: string): unknown
}

export interface CliStreams {
  stdout: TextSink
  stderr: TextSink
}

export class Output {
  constructor (private readonly streams: CliStreams, readonly json: boolean) {}

  /** Prints an API answer: the JSON unchanged with --json, else what `render` makes of it. */
  result<T> (body: T, render: (body: T) => string): void {
    this.streams.stdout.write(this.json ? `${JSON.stringify(body, null, 2)}\n` : ensureNewline(render(body)))
  }

  /**
   * Prints an error and returns the exit code. stderr always gets `error CODE: message`; with
   * --json, stdout also gets the API's error body unchanged (or one of the same shape).
   */
  error (err: unknown): number {
    const { code, message, details, body } = describe(err)
    this.streams.stderr.write(`error ${code}: ${message}\n`)
    if (this.json) this.streams.stdout.write(`${JSON.stringify(body ?? { error: { code, message, details } }, null, 2)}\n`)
    return exitCodeOf(err)
  }
}

/**
 * Ends the process quietly when the reader of `stdout` goes away (`certmq cert list --all | head`):
 * node ignores SIGPIPE, so the next write fails with EPIPE, an unhandled 'error' event and a stack
 * trace. The exit code is the command's if it has already finished, else EXIT_OK: the reader
 * chose to stop, nothing failed. C tools (git, ls) die of SIGPIPE instead (status 141), which a
 * node process cannot do; ripgrep, whose runtime also ignores SIGPIPE, exits 0 for the same
 * reason, and a faked 141 would fail `set -o pipefail` scripts that only wanted the first lines.
 * Any other write error is rethrown, as uncaught as it was without this listener.
 */
export function exitQuietlyWhenReaderCloses (stdout: NodeJS.EventEmitter): void {
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.exit(process.exitCode ?? EXIT_OK)
  })
}

export function exitCodeOf (err: unknown): number {
  if (err instanceof AdminApiError) return EXIT_API_ERROR
  if (err instanceof CertmqError) {
    switch (err.code) {
      case 'ADMIN_UNREACHABLE': return EXIT_UNREACHABLE
      case 'MONITOR_REFUSED': return EXIT_MONITOR_REFUSED
      case 'BACKUP_INVALID': return EXIT_BACKUP_INVALID
      case 'STORE_UNAVAILABLE': return EXIT_STORE_UNAVAILABLE
      case 'CONFIG_INVALID': return EXIT_CONFIG_INVALID
      default: return EXIT_USAGE
    }
  }
  return EXIT_API_ERROR
}

function describe (err: unknown): { code: string, message: string, details: Readonly<Record<string, unknown>>, body?: unknown } {
  if (err instanceof AdminApiError) return { code: err.code, message: err.message, details: err.details, body: err.body }
  if (err instanceof CertmqError) return { code: err.code, message: err.message, details: err.details }
  // a bug in the CLI itself: say so rather than pretend it is an API answer
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), details: {} }
}

/** Left-aligned columns separated by two spaces; `headers` upper case by convention. */
export function renderTable (headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n') + '\n'
}

/** `label:  value` lines, labels aligned. */
export function renderFields (fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n') + '\n'
}

/** ISO instant → `2025-01-31 12:00:00Z`, readable and still unambiguous. */
export function formatInstant (iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '-'
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/** Dates in lists: the day is what an operator scans for. */
export function formatDay (iso: string): string {
  return iso.slice(0, 10)
}

export function orDash (value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : value
}

function ensureNewline (text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`
}
