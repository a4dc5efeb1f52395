/**
 * A listener that cannot be set up at start, said in the operator's terms: which setting (config
 * key and environment variable), which address, and why in words, instead of a bare
 * `listen EADDRINUSE` reported as INTERNAL.
 */
import { CertmqError, isCertmqError } from './errors.js'

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use (another certmq, or another service)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'that address is not one of this machine\'s',
  ENOTFOUND: 'no such host name',
  EAI_AGAIN: 'the host name could not be resolved'
}

/**
 * LISTEN_FAILED for the `what` listener (`mqtts`, `admin`), naming its two settings, when `err`
 * is a system error (an errno code such as EADDRINUSE); any other error (a CertmqError, a thread
 * that failed for another reason) is returned as it is.
 */
export function listenFailure (err: unknown, what: 'mqtts' | 'admin', host: string, port: number): unknown {
  const code = errnoOf(err)
  if (code === undefined || isCertmqError(err)) return err
  const why = LISTEN_REASONS[code] ?? (err as Error).message
  const env = what === 'mqtts' ? 'CERTMQ_MQTTS_HOST / CERTMQ_MQTTS_PORT' : 'CERTMQ_ADMIN_HOST / CERTMQ_ADMIN_PORT'
  return new CertmqError('LISTEN_FAILED', `${what}: cannot listen on ${host}:${port}: ${why} (set ${what}.host / ${what}.port, or ${env})`,
    { listener: what, host, port, errno: code }, { cause: err })
}

/** The errno code of a system error (EADDRINUSE, EAI_AGAIN); not Node's own ERR_… codes. */
export function errnoOf (err: unknown): string | undefined {
  const code: unknown = err instanceof Error ? Reflect.get(err, 'code') : undefined
  return typeof code === 'string' && /^E(?!RR_)[A-Z_]+$/.test(code) ? code : undefined
}
