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

/** What FlushLater needs of its buffered stream (sonic-boom, as pino.destination makes it). */
export interface BufferedStream {
  write (line: string): unknown
  flush (): void
}

/**
 * pino's destination in front of a buffered stream: a line waits in the buffer until it passes
 * 4 KiB or until LOG_FLUSH_MS after the first line still waiting, and the timer runs only while a
 * line waits. A fixed interval made sonic-boom write its empty buffer ten times a second: an idle
 * broker spent about 14 ms of CPU a second on it, and a busy one took it from every connect.
 */
export class FlushLater implements DestinationStream {
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly out: BufferedStream) {}

  write (line: string): void {
    this.out.write(line)
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      try { this.out.flush() } catch { /* closed at exit; pino flushes the stream itself then */ }
    }, LOG_FLUSH_MS)
    this.timer.unref()
  }
}

/**
 * Without a destination, logs go to stdout through a buffer: a broker logs every refused CONNECT,
 * and one write(2) per line cost measurable CPU per connect. The buffer is written when it passes
 * 4 KiB, LOG_FLUSH_MS after a line arrived, and on exit (pino.destination registers the stream to
 * be flushed on 'exit'); a kill -9 can lose at most the last LOG_FLUSH_MS of lines.
 */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  if (destination !== undefined) return pino(options, destination)
  return pino(options, new FlushLater(pino.destination({ dest: 1, sync: false, minLength: 4096 })))
}
