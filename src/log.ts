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

export function createLogger (level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}
