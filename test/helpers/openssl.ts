/**
 * Certificates made by the real `openssl` CLI, as a device maker or an operator following the
 * README would make them. Each OpenSslPki owns a fresh temp dir; call cleanup() after the suite.
 *
 *   const pki = await OpenSslPki.create()
 *   const root = await pki.ca('root')
 *   const inter = await pki.intermediate('inter', root)
 *   const dev = await pki.leaf('dev', inter, { cn: 'device-1' })   // dev.chainPath = dev + inter
 */
import { execFile } from 'node:child_process'
import { randomBytes, X509Certificate } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export type OpenSslKey = 'ec' | 'ec384' | 'rsa2048' | 'rsa4096' | 'ed25519'

export interface OpenSslCert {
  name: string
  certPath: string
  keyPath: string
  pem: string
  keyPem: string
  /** This certificate followed by the intermediates above it (never the root). */
  chainPath: string
}

/** What leaf() and selfSigned() return. */
export type OpenSslLeaf = OpenSslCert

export interface OpenSslCa extends OpenSslCert {
  /** PEMs of the intermediates from this CA up to (not including) the root; [] for a root. */
  intermediatePems: string[]
}

export interface CaOptions {
  cn?: string
  o?: string
  key?: OpenSslKey
  days?: number
  /** 'none' leaves the keyUsage extension out (allowed for CAs by RFC 5280, seen in the wild). */
  keyUsage?: 'keyCertSign' | 'none'
  /** Explicit validity (intermediates only), e.g. an expired intermediate. */
  notBefore?: Date
  notAfter?: Date
  /** basicConstraints pathlen (a pathLenConstraint). */
  pathLen?: number
  /** More extension lines as openssl config spells them, e.g. `nameConstraints = critical, permitted;DNS:example.com`. */
  extensions?: string[]
}

export interface LeafOptions {
  cn: string
  ou?: string | string[]
  o?: string
  /** Default 'ec' (prime256v1, SEC1 `EC PRIVATE KEY` as `openssl ecparam -genkey` writes it). */
  key?: OpenSslKey
  eku?: 'clientAuth' | 'serverAuth' | 'none'
  keyUsage?: 'digitalSignature' | 'keyCertSign' | 'none'
  ca?: boolean
  /** subjectAltName entries as openssl spells them: 'DNS:localhost', 'IP:127.0.0.1'. */
  san?: string[]
  days?: number
  notBefore?: Date
  notAfter?: Date
  /** More extension lines as openssl config spells them, e.g. `1.2.3.4 = critical, ASN1:NULL`. */
  extensions?: string[]
}

export class OpenSslPki {
  private readonly names = new Set<string>()

  private constructor (readonly dir: string) {}

  static async create (): Promise<OpenSslPki> {
    return new OpenSslPki(await mkdtemp(join(tmpdir(), 'certmq-openssl-')))
  }

  /** Runs openssl in the temp dir; resolves with stdout, rejects with stderr in the message. */
  async openssl (...args: string[]): Promise<string> {
    try {
      const { stdout } = await run('openssl', args, { cwd: this.dir, maxBuffer: 16 * 1024 * 1024 })
      return stdout
    } catch (err) {
      const e = err as Error & { stderr?: string }
      throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err })
    }
  }

  /** A path inside the temp dir. */
  path (file: string): string {
    return join(this.dir, file)
  }

  /** A self-signed root CA: CA:TRUE, keyUsage keyCertSign + cRLSign (both critical). */
  async ca (name: string, opts: CaOptions = {}): Promise<OpenSslCa> {
    const files = this.claim(name)
    await this.generateKey(files.keyPath, opts.key ?? 'ec')
    await this.writeConfig(files.confPath, caExtensions(opts, true))
    await this.openssl('req', '-x509', '-new', '-utf8', '-config', files.confPath, '-extensions', 'ext',
      '-key', files.keyPath, '-subj', subject({ cn: opts.cn ?? name, o: opts.o }), '-sha256',
      '-days', String(opts.days ?? 3650), '-set_serial', randomSerial(), '-out', files.certPath)
    return { ...(await this.finish(name, files, [])), intermediatePems: [] }
  }

  /**
   * `ca` renewed: a new self-signed root with its key and, given the same `cn` and `o` it was made
   * with, its subject (a rollover), so whatever `ca` signed verifies under either. Another serial
   * and validity, so another fingerprint.
   */
  async renewedRoot (name: string, ca: OpenSslCa, opts: CaOptions & { cn: string }): Promise<OpenSslCa> {
    const files = this.claim(name)
    await copyFile(ca.keyPath, files.keyPath)
    await this.writeConfig(files.confPath, caExtensions(opts, true))
    await this.openssl('req', '-x509', '-new', '-utf8', '-config', files.confPath, '-extensions', 'ext',
      '-key', files.keyPath, '-subj', subject({ cn: opts.cn, o: opts.o }), '-sha256',
      '-days', String(opts.days ?? 3650), '-set_serial', randomSerial(), '-out', files.certPath)
    return { ...(await this.finish(name, files, [])), intermediatePems: [] }
  }

  /** An intermediate CA signed by `parent`. */
  async intermediate (name: string, parent: OpenSslCa, opts: CaOptions = {}): Promise<OpenSslCa> {
    const files = this.claim(name)
    await this.generateKey(files.keyPath, opts.key ?? 'ec')
    await this.writeConfig(files.confPath, caExtensions(opts, false))
    await this.sign(files, parent, { cn: opts.cn ?? name, o: opts.o }, opts.days ?? 1825, opts.notBefore, opts.notAfter)
    const cert = await this.finish(name, files, parent.intermediatePems)
    return { ...cert, intermediatePems: [cert.pem, ...parent.intermediatePems] }
  }

  /**
   * A certificate signed by `issuer`; by default a device certificate as a README's client.conf
   * makes it: EC P-256, basicConstraints CA:FALSE, keyUsage digitalSignature, EKU clientAuth.
   * notBefore/notAfter (expired, not yet valid) go through `openssl ca -startdate/-enddate`.
   */
  async leaf (name: string, issuer: OpenSslCa, opts: LeafOptions): Promise<OpenSslCert> {
    const files = this.claim(name)
    await this.generateKey(files.keyPath, opts.key ?? 'ec')
    await this.writeConfig(files.confPath, leafExtensions(opts))
    await this.sign(files, issuer, opts, opts.days ?? 365, opts.notBefore, opts.notAfter)
    return await this.finish(name, files, issuer.intermediatePems)
  }

  /** A self-signed device certificate (CA:FALSE, digitalSignature, clientAuth): no CA to chain to. */
  async selfSigned (name: string, cn: string): Promise<OpenSslCert> {
    const files = this.claim(name)
    await this.generateKey(files.keyPath, 'ec')
    await this.writeConfig(files.confPath, leafExtensions({ cn }).replace(/^authorityKeyIdentifier.*$/m, ''))
    await this.openssl('req', '-x509', '-new', '-utf8', '-config', files.confPath, '-extensions', 'ext',
      '-key', files.keyPath, '-subj', subject({ cn }), '-sha256', '-days', '365', '-set_serial', randomSerial(),
      '-out', files.certPath)
    return await this.finish(name, files, [])
  }

  /** A PKCS#10 CSR with a fresh key (EC P-256 by default). */
  async csr (name: string, opts: { cn: string, ou?: string, o?: string, key?: OpenSslKey }):
    Promise<{ csrPath: string, keyPath: string, pem: string, keyPem: string }> {
    const files = this.claim(name)
    await this.generateKey(files.keyPath, opts.key ?? 'ec')
    await this.writeConfig(files.confPath, '')
    await this.openssl('req', '-new', '-utf8', '-config', files.confPath, '-key', files.keyPath,
      '-subj', subject(opts), '-out', files.csrPath)
    return {
      csrPath: files.csrPath,
      keyPath: files.keyPath,
      pem: await readFile(files.csrPath, 'utf8'),
      keyPem: await readFile(files.keyPath, 'utf8')
    }
  }

  /**
   * A CRL issued by `issuer` with `openssl ca -gencrl`, revoking `revoked` (certificates or raw
   * serials in hex). lastUpdate defaults to now, nextUpdate to 30 days later; pass dates in the
   * past to make a stale CRL. `md`: its digest (default sha256); `extensions`: lines of an openssl
   * `crl_extensions` section, e.g. `2.5.29.27 = critical, DER:02:02:03:E8` (delta CRL). Returns
   * the PEM (`X509 CRL`, at `path`) and the DER (also at `derPath`).
   */
  async crl (name: string, issuer: OpenSslCa,
    opts: { revoked?: Array<OpenSslCert | string>, lastUpdate?: Date, nextUpdate?: Date, md?: string, extensions?: string[] } = {}):
    Promise<{ path: string, derPath: string, pem: string, der: Buffer }> {
    const files = this.claim(name)
    await mkdir(files.caDir)
    const revokedAt = asn1Time(new Date(Date.now() - 3_600_000)).slice(2)
    const lines = (opts.revoked ?? []).map((entry) => {
      const serial = typeof entry === 'string' ? entry.toUpperCase() : new X509Certificate(entry.pem).serialNumber
      return ['R', '301231235959Z', revokedAt, serial.length % 2 === 1 ? `0${serial}` : serial, 'unknown', '/CN=revoked'].join('\t')
    })
    await writeFile(join(files.caDir, 'index.txt'), lines.map((line) => `${line}\n`).join(''))
    await writeFile(join(files.caDir, 'crlnumber'), '1000\n')
    const caConf = join(files.caDir, 'ca.cnf')
    await writeFile(caConf, [
      '[ca]', 'default_ca = ca_default',
      '[ca_default]',
      `database = ${join(files.caDir, 'index.txt')}`,
      `crlnumber = ${join(files.caDir, 'crlnumber')}`,
      `default_md = ${opts.md ?? 'sha256'}`, 'unique_subject = no',
      ...(opts.extensions === undefined ? [] : ['crl_extensions = crl_ext', '[crl_ext]', ...opts.extensions]), ''
    ].join('\n'))
    const lastUpdate = opts.lastUpdate ?? new Date()
    const nextUpdate = opts.nextUpdate ?? new Date(lastUpdate.getTime() + 30 * 86_400_000)
    await this.openssl('ca', '-gencrl', '-batch', '-config', caConf, '-cert', issuer.certPath, '-keyfile', issuer.keyPath,
      '-crl_lastupdate', asn1Time(lastUpdate), '-crl_nextupdate', asn1Time(nextUpdate), '-out', files.certPath)
    const derPath = `${files.certPath}.der`
    await this.openssl('crl', '-in', files.certPath, '-outform', 'DER', '-out', derPath)
    return { path: files.certPath, derPath, pem: await readFile(files.certPath, 'utf8'), der: await readFile(derPath) }
  }

  async cleanup (): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }

  private claim (name: string): Files {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`OpenSslPki: name ${JSON.stringify(name)} must be a plain file name`)
    if (this.names.has(name)) throw new Error(`OpenSslPki: ${name} was already made in this instance`)
    this.names.add(name)
    const base = join(this.dir, name)
    return {
      certPath: `${base}.pem`,
      keyPath: `${base}.key`,
      csrPath: `${base}.csr`,
      confPath: `${base}.cnf`,
      chainPath: `${base}-chain.pem`,
      caDir: `${base}.ca`
    }
  }

  private async generateKey (keyPath: string, key: OpenSslKey): Promise<void> {
    switch (key) {
      case 'ec': await this.openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath); break
      case 'ec384': await this.openssl('ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', keyPath); break
      case 'rsa2048': await this.openssl('genrsa', '-out', keyPath, '2048'); break
      case 'rsa4096': await this.openssl('genrsa', '-out', keyPath, '4096'); break
      case 'ed25519': await this.openssl('genpkey', '-algorithm', 'ed25519', '-out', keyPath); break
    }
  }

  private async writeConfig (confPath: string, extensions: string): Promise<void> {
    await writeFile(confPath, `[req]\ndistinguished_name = dn\n[dn]\n[ext]\n${extensions}\n`)
  }

  /** CSR for files.keyPath, signed by `issuer` with the [ext] section of files.confPath. */
  private async sign (files: Files, issuer: OpenSslCa, names: SubjectParts, days: number,
    notBefore: Date | undefined, notAfter: Date | undefined): Promise<void> {
    await this.openssl('req', '-new', '-utf8', '-config', files.confPath, '-key', files.keyPath,
      '-subj', subject(names), '-out', files.csrPath)
    if (notBefore === undefined && notAfter === undefined) {
      await this.openssl('x509', '-req', '-in', files.csrPath, '-CA', issuer.certPath, '-CAkey', issuer.keyPath,
        '-set_serial', randomSerial(), '-days', String(days), '-sha256',
        '-extfile', files.confPath, '-extensions', 'ext', '-out', files.certPath)
      return
    }
    // OpenSSL 3.0 `x509` has no -not_before/-not_after; `openssl ca` takes explicit dates
    const start = notBefore ?? new Date(Date.now() - 60_000)
    const end = notAfter ?? new Date(start.getTime() + days * 86_400_000)
    await mkdir(files.caDir)
    await writeFile(join(files.caDir, 'index.txt'), '')
    await writeFile(join(files.caDir, 'serial'), `${randomSerial().slice(2)}\n`)
    const caConf = join(files.caDir, 'ca.cnf')
    await writeFile(caConf, [
      '[ca]', 'default_ca = ca_default',
      '[ca_default]',
      `database = ${join(files.caDir, 'index.txt')}`,
      `serial = ${join(files.caDir, 'serial')}`,
      `new_certs_dir = ${files.caDir}`,
      'default_md = sha256', 'policy = policy_any', 'unique_subject = no', 'email_in_dn = no', 'copy_extensions = none',
      '[policy_any]',
      ...['countryName', 'stateOrProvinceName', 'localityName', 'organizationName', 'organizationalUnitName', 'commonName', 'emailAddress']
        .map((field) => `${field} = optional`),
      ''
    ].join('\n'))
    await this.openssl('ca', '-batch', '-notext', '-preserveDN', '-config', caConf, '-cert', issuer.certPath, '-keyfile', issuer.keyPath,
      '-in', files.csrPath, '-out', files.certPath, '-startdate', asn1Time(start), '-enddate', asn1Time(end),
      '-extfile', files.confPath, '-extensions', 'ext')
  }

  private async finish (name: string, files: Files, intermediatePems: string[]): Promise<OpenSslCert> {
    const pem = await readFile(files.certPath, 'utf8')
    await writeFile(files.chainPath, [pem, ...intermediatePems].join(''))
    return { name, certPath: files.certPath, keyPath: files.keyPath, pem, keyPem: await readFile(files.keyPath, 'utf8'), chainPath: files.chainPath }
  }
}

interface Files {
  certPath: string
  keyPath: string
  csrPath: string
  confPath: string
  chainPath: string
  caDir: string
}

interface SubjectParts {
  cn: string
  ou?: string | string[] | undefined
  o?: string | undefined
}

function caExtensions (opts: CaOptions, root: boolean): string {
  return [
    `basicConstraints = critical, CA:TRUE${opts.pathLen === undefined ? '' : `, pathlen:${opts.pathLen}`}`,
    (opts.keyUsage ?? 'keyCertSign') === 'none' ? '' : 'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    root ? 'authorityKeyIdentifier = keyid:always' : 'authorityKeyIdentifier = keyid:always, issuer',
    ...(opts.extensions ?? [])
  ].filter((line) => line !== '').join('\n')
}

function leafExtensions (opts: LeafOptions): string {
  const keyUsage = opts.keyUsage ?? 'digitalSignature'
  const eku = opts.eku ?? 'clientAuth'
  return [
    `basicConstraints = ${opts.ca === true ? 'critical, CA:TRUE' : 'CA:FALSE'}`,
    keyUsage === 'none' ? '' : `keyUsage = critical, ${keyUsage}`,
    eku === 'none' ? '' : `extendedKeyUsage = ${eku}`,
    opts.san === undefined || opts.san.length === 0 ? '' : `subjectAltName = ${opts.san.join(', ')}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid, issuer',
    ...(opts.extensions ?? [])
  ].filter((line) => line !== '').join('\n')
}

/** `-subj` text; `/`, `+`, `=` and `\` in values are escaped. */
function subject (parts: SubjectParts): string {
  const escape = (value: string): string => value.replace(/[\\/+=]/g, (c) => `\\${c}`)
  const ous = parts.ou === undefined ? [] : Array.isArray(parts.ou) ? parts.ou : [parts.ou]
  return [
    ...(parts.o === undefined ? [] : [`/O=${escape(parts.o)}`]),
    ...ous.map((ou) => `/OU=${escape(ou)}`),
    `/CN=${escape(parts.cn)}`
  ].join('')
}

/** 16 random bytes as `0x…`, high bit clear (positive) and first byte non-zero. */
function randomSerial (): string {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x10
  return `0x${bytes.toString('hex')}`
}

/** YYYYMMDDHHMMSSZ; OpenSSL writes UTCTime for years before 2050 as RFC 5280 requires. */
function asn1Time (date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z')
}

/** The registry id of a certificate: SHA-256 of its DER, lowercase hex. */
export function fingerprintOf (pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()
}
