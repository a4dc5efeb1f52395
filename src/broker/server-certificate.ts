/**
 * The certificate the MQTTS listener serves, kept current while the broker runs: the generated
 * one is renewed when due, an operator's own (mqtts.certFile/keyFile) is reread on request
 * (`certmq serve` asks on SIGHUP) and watched for its expiry. A replacement is checked before it
 * is served (its key, its validity); one that fails the check changes nothing, so a reload can
 * never leave the fleet with a worse certificate than it had.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import type { Logger } from '../log.js'
import { CertmqError, isCertmqError } from '../errors.js'
import { fingerprintOfDer } from '../pki/inspect.js'

export interface ServerCertificatePair {
  certificatePem: string
  privateKeyPem: string
}

/** What a reload did: `unchanged` when the files hold what is already served. */
export interface ServerCertificateReload {
  result: 'reloaded' | 'unchanged'
  fingerprint: string
  notAfter: string
}

/** Where a new certificate goes: the listener's setServerCertificate. */
export interface CertificateSink {
  setServerCertificate (certificatePem: string, privateKeyPem: string): void
}

export interface ServerCertificateOptions {
  sink: CertificateSink
  /** Reads the pair to serve: the configured files, or the generated pair (renewed when due). */
  load: () => Promise<ServerCertificatePair>
  /** Where the pair comes from, for logs and messages: the certificate file's and the key file's paths. */
  source: string
  keySource: string
  log: Logger
  now: () => Date
  /** Told the served certificate's notAfter (Unix seconds) at start and after each swap, for the expiry gauge. */
  onServed?: (notAfterSeconds: number) => void
}

/** Who asked for a reload: SIGHUP (`certmq serve`), or the twice-daily renewal check of the generated certificate. */
type ReloadTrigger = 'signal' | 'renewal'

const DAY_MS = 86_400_000
/** An operator's certificate is reported (warn) from 30 days before its expiry, as the generated one is renewed. */
export const EXPIRY_WARNING_DAYS = 30

export class ServerCertificate {
  private served: ServerCertificatePair & { leaf: X509Certificate }
  /** Reloads run one after another: two SIGHUPs in a row must not swap in the older read last. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (initial: ServerCertificatePair, private readonly options: ServerCertificateOptions) {
    this.served = { ...initial, leaf: leafOf(initial.certificatePem, options.source) }
    options.onServed?.(Date.parse(this.served.leaf.validTo) / 1000)
  }

  /**
   * Reads the pair again and, when it differs, serves it to new handshakes (live sessions stay).
   * `trigger` names who asked, for the log: `renewal` logs `tls.renewed`, any other `tls.reloaded`.
   * Throws TLS_SETUP_FAILED / PEM_INVALID, after logging `tls.reload_failed`, when the new pair
   * cannot be served; the previous one stays.
   */
  async reload (trigger: ReloadTrigger): Promise<ServerCertificateReload> {
    const next = this.queue.then(async () => await this.reloadNow(trigger))
    this.queue = next.catch(() => {})
    return await next
  }

  /** Logs `tls.expiring` (warn) within 30 days of the served certificate's expiry and `tls.expired` (error) after it. */
  checkExpiry (): void {
    const { leaf } = this.served
    const leftMs = Date.parse(leaf.validTo) - this.options.now().getTime()
    const facts = { certificate: this.options.source, fingerprint: fingerprintOfDer(leaf.raw), notAfter: isoDate(leaf.validTo) }
    if (leftMs <= 0) {
      this.options.log.error({ event: 'tls.expired', ...facts },
        'the MQTTS server certificate has expired: devices refuse the broker until it is replaced (replace the files, then send SIGHUP)')
    } else if (leftMs <= EXPIRY_WARNING_DAYS * DAY_MS) {
      const daysLeft = Math.floor(leftMs / DAY_MS)
      this.options.log.warn({ event: 'tls.expiring', ...facts, daysLeft },
        `the MQTTS server certificate expires in ${daysLeft < 1 ? 'less than a day' : `${daysLeft} days`}: replace the files, then send SIGHUP`)
    }
  }

  private async reloadNow (trigger: ReloadTrigger): Promise<ServerCertificateReload> {
    const { log, source } = this.options
    try {
      const pair = await this.options.load()
      if (pair.certificatePem === this.served.certificatePem && pair.privateKeyPem === this.served.privateKeyPem) {
        const { leaf } = this.served
        // the twice-daily renewal check finds nothing to do almost every time: not worth a line
        if (trigger !== 'renewal') {
          log.info({ event: 'tls.reload_unchanged', trigger, certificate: source, fingerprint: fingerprintOfDer(leaf.raw) },
            'the MQTTS server certificate files hold what is already served: nothing to reload')
        }
        return { result: 'unchanged', fingerprint: fingerprintOfDer(leaf.raw), notAfter: isoDate(leaf.validTo) }
      }
      const leaf = this.check(pair)
      this.options.sink.setServerCertificate(pair.certificatePem, pair.privateKeyPem)
      const previous = fingerprintOfDer(this.served.leaf.raw)
      this.served = { ...pair, leaf }
      this.options.onServed?.(Date.parse(leaf.validTo) / 1000)
      const facts = { trigger, certificate: source, fingerprint: fingerprintOfDer(leaf.raw), previous, notAfter: isoDate(leaf.validTo) }
      if (trigger === 'renewal') {
        log.info({ event: 'tls.renewed', ...facts }, 'renewed the MQTTS server certificate; new handshakes use it')
      } else {
        log.info({ event: 'tls.reloaded', ...facts }, 'reloaded the MQTTS server certificate; new handshakes use it, live sessions stay')
        // an operator's certificate that ends soon is said now, not at the next twice-daily check
        this.checkExpiry()
      }
      return { result: 'reloaded', fingerprint: facts.fingerprint, notAfter: facts.notAfter }
    } catch (err) {
      const code = isCertmqError(err) ? err.code : 'TLS_SETUP_FAILED'
      log.error({ event: 'tls.reload_failed', trigger, certificate: source, code, reason: (err as Error).message },
        'could not reload the MQTTS server certificate; the previous one is still served')
      throw err
    }
  }

  /** The leaf of a new pair, once its key is known to match and it has not expired. */
  private check (pair: ServerCertificatePair): X509Certificate {
    const leaf = leafOf(pair.certificatePem, this.options.source)
    const key = keyOf(pair.privateKeyPem, this.options.keySource)
    if (!leaf.checkPrivateKey(key)) {
      throw new CertmqError('TLS_SETUP_FAILED', `${this.options.keySource} is not the private key of ${this.options.source}`, { path: this.options.keySource })
    }
    if (Date.parse(leaf.validTo) <= this.options.now().getTime()) {
      throw new CertmqError('TLS_SETUP_FAILED', `${this.options.source}: the certificate expired on ${isoDate(leaf.validTo)}; refusing to serve it`,
        { path: this.options.source, notAfter: isoDate(leaf.validTo) })
    }
    return leaf
  }
}

/*
 * The files are read as OpenSSL reads them for the listener (the first certificate is the
 * server's, the first key its key; other blocks are skipped), not with pki/pem's strict parsers:
 * a file that serves at start, such as one holding both the key and the chain, reloads too.
 */
function leafOf (chainPem: string, where: string): X509Certificate {
  try {
    return new X509Certificate(chainPem)
  } catch (err) {
    throw new CertmqError('PEM_INVALID', `${where}: no usable certificate (${(err as Error).message})`, { path: where }, { cause: err })
  }
}

function keyOf (keyPem: string, where: string): KeyObject {
  try {
    return createPrivateKey(keyPem)
  } catch (err) {
    throw new CertmqError('PEM_INVALID', `${where}: no usable private key (${(err as Error).message})`, { path: where }, { cause: err })
  }
}

function isoDate (openssl: string): string {
  return new Date(openssl).toISOString()
}
