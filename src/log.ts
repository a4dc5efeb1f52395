/**
 * The one pino factory. Each adapter gets a child with `{ module }`. Redaction is a safety net:
 * call sites pick their fields and never log PEM, keys, tokens or whole requests.
 */
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'privateKeyPem',
  '*.privateKeyPem',
  'certificatePem',
  '*.certificatePem',
  '*.pem',
  'csrPem',
  '*.csrPem'
]

/** How long a log line may wait in the buffer before it is written out. */
export const LOG_FLUSH_MS = 100

/**
 * Without a destination, logs go to stdout through a buffer: a broker logs every CONNECT
 * decision, and one write(2) per line cost measurable CPU per connect. The buffer is written
 * every LOG_FLUSH_MS, when it passes 4 KiB, and on exit (pino flushes on 'exit'); a kill -9
 * can lose at most the last LOG_FLUSH_MS of lines.
 */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  if (destination !== undefined) return pino(options, destination)
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 })
  const timer = setInterval(() => {
    try { stdout.flush() } catch { /* closed at exit */ }
  }, LOG_FLUSH_MS)
  timer.unref()
  stdout.once('close', () => { clearInterval(timer) })
  return pino(options, stdout)
}
