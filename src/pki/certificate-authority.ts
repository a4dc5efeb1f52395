/**
 * Making CA and leaf certificates with @peculiar/x509 on WebCrypto, and the files of the
 * built-in CA and the broker's own TLS certificate.
 */
import { x509 } from './x509-setup.js'
import { createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { CertmqError, isCertmqError } from '../errors.js'
import { isIssuedBy } from './chain.js'
import { derToPem, parseCertificatePem, parsePrivateKeyPem } from './pem.js'
import { isDnsName } from '../domain/dns-name.js'

export type KeyAlgorithm = 'EC-P256' | 'EC-P384' | 'RSA-2048' | 'RSA-4096'

export interface CertificateAndKey {
  certificatePem: string
  /** PKCS#8 `PRIVATE KEY` PEM. */
  privateKeyPem: string
}

export interface CreateCaOptions {
  commonName: string
  organization?: string
  validityDays: number
  keyAlgorithm: KeyAlgorithm
}

export interface IssueCertificateOptions {
  issuerCertificatePem: string
  /** PKCS#8, SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`). */
  issuerPrivateKeyPem: string
  subject: { commonName: string, organizationalUnit?: string, organization?: string }
  keyAlgorithm: KeyAlgorithm
  validityDays: number
  purpose: 'server' | 'client'
  dnsNames?: string[]
  ipAddresses?: string[]
  /** The issuer already parsed by prepareIssuer (many certificates from one CA); the PEMs are then not read. */
  preparedIssuer?: PreparedIssuer
  /**
   * Start of validity; the certificate is then valid for validityDays from it. Default: 5 minutes
   * ago, validityDays counted from now. Seeding test registries needs older certificates.
   */
  notBefore?: Date
}

const DAY_MS = 86_400_000
// tolerate clocks a little behind ours
const BACKDATE_MS = 5 * 60_000

type SignParams = webcrypto.Algorithm | webcrypto.EcdsaParams

const KEY_PARAMS: Record<KeyAlgorithm, { generate: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams, sign: SignParams }> = {
  'EC-P256': { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'EC-P384': { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  'RSA-2048': { generate: rsa(2048), sign: { name: 'RSASSA-PKCS1-v1_5' } },
  'RSA-4096': { generate: rsa(4096), sign: { name: 'RSASSA-PKCS1-v1_5' } }
}

function rsa (modulusLength: number): webcrypto.RsaHashedKeyGenParams {
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
}

/**
 * A self-signed CA: basicConstraints CA:TRUE and keyUsage keyCertSign + cRLSign (both
 * critical), subjectKeyIdentifier. Throws VALIDATION_FAILED for bad options.
 */
export async function createCaCertificate (options: CreateCaOptions): Promise<CertificateAndKey> {
  checkCommon(options.commonName, 'commonName', options.validityDays, options.keyAlgorithm)
  const keys = await generateKeys(options.keyAlgorithm)
  const name = subjectName({ commonName: options.commonName, organization: options.organization })
  const notBefore = new Date(Date.now() - BACKDATE_MS)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    keys,
    notBefore,
    notAfter: new Date(notBefore.getTime() + BACKDATE_MS + options.validityDays * DAY_MS),
    signingAlgorithm: KEY_PARAMS[options.keyAlgorithm].sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  return { certificatePem: derToPem(new Uint8Array(cert.rawData), 'CERTIFICATE'), privateKeyPem: await exportPrivateKey(keys.privateKey) }
}

/**
 * A leaf signed by the given CA: basicConstraints CA:FALSE, keyUsage digitalSignature (plus
 * keyEncipherment for RSA), EKU serverAuth or clientAuth, SAN from dnsNames/ipAddresses,
 * authority and subject key identifiers, a random positive 16-byte serial, notBefore 5 min ago.
 * Throws PEM_INVALID (issuer PEMs, or a key that does not belong to the certificate), CA_NOT_CA
 * (issuer is not a CA) and VALIDATION_FAILED (bad options).
 */
export async function issueCertificate (options: IssueCertificateOptions): Promise<CertificateAndKey> {
  checkCommon(options.subject.commonName, 'subject.commonName', options.validityDays, options.keyAlgorithm)
  const dnsNames = options.dnsNames ?? []
  const ipAddresses = options.ipAddresses ?? []
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) invalid(`ipAddresses: ${JSON.stringify(ip)} is not an IPv4 or IPv6 address`, 'ipAddresses')
  }
  for (const dns of dnsNames) {
    if (!isDnsName(dns)) invalid(`dnsNames: ${JSON.stringify(dns)} is not a DNS name`, 'dnsNames')
  }
  const issuer = options.preparedIssuer ?? await loadIssuer(options.issuerCertificatePem, options.issuerPrivateKeyPem)
  const keys = await generateKeys(options.keyAlgorithm)
  const rsaKey = options.keyAlgorithm.startsWith('RSA')
  const usages = x509.KeyUsageFlags.digitalSignature | (rsaKey ? x509.KeyUsageFlags.keyEncipherment : 0)
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension([options.purpose === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    issuer.authorityKeyIdentifier
  ]
  if (dnsNames.length + ipAddresses.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension([
      ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))
    ]))
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - BACKDATE_MS)
  const backdated = options.notBefore === undefined ? BACKDATE_MS : 0
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(options.subject),
    issuer: issuer.certificate.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + backdated + options.validityDays * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: issuer.signingAlgorithm,
    extensions
  })
  return { certificatePem: derToPem(new Uint8Array(cert.rawData), 'CERTIFICATE'), privateKeyPem: await exportPrivateKey(keys.privateKey) }
}

/**
 * The built-in CA in `dir` (`builtin-ca.pem`, `builtin-ca.key` mode 0600; `dir` made 0700):
 * loaded when present, otherwise created (EC P-256, 10 years). A certificate without its key is
 * refused rather than replaced, since devices may hold certificates it issued.
 * Throws TLS_SETUP_FAILED (files) and PEM_INVALID (unreadable contents).
 */
export async function loadOrCreateBuiltinCa (dir: string, commonName: string):
  Promise<CertificateAndKey & { created: boolean, certificatePath: string }> {
  const certificatePath = join(dir, 'builtin-ca.pem')
  const keyPath = join(dir, 'builtin-ca.key')
  await makeDir(dir)
  const certificatePem = await readOptional(certificatePath)
  if (certificatePem !== undefined) {
    const privateKeyPem = await readOptional(keyPath)
    if (privateKeyPem === undefined) {
      throw new CertmqError('TLS_SETUP_FAILED', `built-in CA: ${certificatePath} exists but its key ${keyPath} is missing`,
        { certificatePath, keyPath })
    }
    const cert = parseCertificatePem(certificatePem, certificatePath)
    const key = parsePrivateKeyPem(privateKeyPem, keyPath)
    if (!keyMatches(key, new X509Certificate(cert.der))) {
      throw new CertmqError('TLS_SETUP_FAILED', `built-in CA: ${keyPath} is not the key of ${certificatePath}`, { certificatePath, keyPath })
    }
    return { certificatePem: cert.pem, privateKeyPem: toPkcs8Pem(key), created: false, certificatePath }
  }
  // a key without a certificate is an interrupted first start: nothing was issued with it
  const ca = await createCaCertificate({ commonName, validityDays: 3650, keyAlgorithm: 'EC-P256' })
  await writeAtomically(keyPath, ca.privateKeyPem, 0o600)
  await writeAtomically(certificatePath, ca.certificatePem, 0o644)
  return { ...ca, created: true, certificatePath }
}

/** A generated server certificate is replaced once it has this many days left or fewer. */
const SERVER_RENEW_WITHIN_DAYS = 30

/**
 * The broker's TLS certificate in `dir` (`server.pem`, `server.key`): reused while it is signed
 * by `ca`, covers every hostname and IP asked for, and has more than 30 days left; otherwise a
 * new one (EC P-256, 1 year) is issued and written. An IP given among `hostnames` counts as an
 * IP; a name that cannot be a DNS SAN (an odd os.hostname()) is left out rather than failing the
 * start. Throws TLS_SETUP_FAILED (files).
 */
export async function loadOrCreateServerCertificate (dir: string, ca: CertificateAndKey, hostnames: string[], ips: string[], nowMs = Date.now()):
  Promise<CertificateAndKey & { created: boolean }> {
  const certPath = join(dir, 'server.pem')
  const keyPath = join(dir, 'server.key')
  const dnsNames = [...new Set(hostnames.filter((name) => isIP(name) === 0 && isDnsName(name)).map((name) => name.toLowerCase()))]
  const ipAddresses = [...new Set([...ips, ...hostnames.filter((name) => isIP(name) !== 0)])]
  await makeDir(dir)
  const issuer = new X509Certificate(parseCertificatePem(ca.certificatePem, 'CA certificate').der)
  const caNotAfterMs = Date.parse(issuer.validTo)
  if (caNotAfterMs <= nowMs) {
    throw new CertmqError('TLS_SETUP_FAILED', `built-in CA: it expired on ${new Date(caNotAfterMs).toISOString()}; no server certificate it issues can be trusted (see docs/operations.md, "The built-in CA")`,
      { notAfter: new Date(caNotAfterMs).toISOString() })
  }
  const existing = await loadServerCertificate(certPath, keyPath)
  if (existing !== undefined) {
    const cert = existing.x509
    // in the CA's last month a certificate that ends with the CA is as fresh as one can be
    const fresh = Date.parse(cert.validTo) - nowMs > SERVER_RENEW_WITHIN_DAYS * DAY_MS || Date.parse(cert.validTo) >= caNotAfterMs - DAY_MS
    const covers = dnsNames.every((name) => cert.checkHost(name, { subject: 'never' }) !== undefined) &&
      ipAddresses.every((ip) => cert.checkIP(ip) !== undefined)
    if (fresh && covers && isIssuedBy(cert, issuer)) return { ...existing.pair, created: false }
  }
  // never past the CA's own end: a certificate that outlives its issuer fails every device's
  // check. Counted on the clock the certificate is issued by (issueCertificate dates it now)
  const caDaysLeft = Math.max(1, Math.floor((caNotAfterMs - Date.now()) / DAY_MS))
  const issued = await issueCertificate({
    issuerCertificatePem: ca.certificatePem,
    issuerPrivateKeyPem: ca.privateKeyPem,
    subject: { commonName: dnsNames[0] ?? ipAddresses[0] ?? 'certmq' },
    keyAlgorithm: 'EC-P256',
    validityDays: Math.min(365, caDaysLeft),
    purpose: 'server',
    dnsNames,
    ipAddresses
  })
  await writeAtomically(keyPath, issued.privateKeyPem, 0o600)
  await writeAtomically(certPath, issued.certificatePem, 0o644)
  return { ...issued, created: true }
}

/** The server pair when both files hold a certificate and its key; undefined means re-issue. */
async function loadServerCertificate (certPath: string, keyPath: string):
  Promise<{ pair: CertificateAndKey, x509: X509Certificate } | undefined> {
  const certificatePem = await readOptional(certPath)
  const privateKeyPem = await readOptional(keyPath)
  if (certificatePem === undefined || privateKeyPem === undefined) return undefined
  try {
    const cert = parseCertificatePem(certificatePem, certPath)
    const key = parsePrivateKeyPem(privateKeyPem, keyPath)
    const x509Cert = new X509Certificate(cert.der)
    if (!keyMatches(key, x509Cert)) return undefined
    return { pair: { certificatePem: cert.pem, privateKeyPem: toPkcs8Pem(key) }, x509: x509Cert }
  } catch (err) {
    // our own generated files: a damaged pair is replaced, not fatal
    if (isCertmqError(err, 'PEM_INVALID')) return undefined
    throw err
  }
}

interface Issuer {
  certificate: x509.X509Certificate
  signingKey: webcrypto.CryptoKey
  signingAlgorithm: SignParams
  authorityKeyIdentifier: x509.AuthorityKeyIdentifierExtension
}

/** An issuer parsed and checked once, for issuing many certificates (the device simulator). */
export type PreparedIssuer = Issuer

/** Parses and checks an issuer once; same errors as issueCertificate. */
export async function prepareIssuer (certificatePem: string, privateKeyPem: string): Promise<PreparedIssuer> {
  return await loadIssuer(certificatePem, privateKeyPem)
}

async function loadIssuer (certificatePem: string, privateKeyPem: string): Promise<Issuer> {
  const { der } = parseCertificatePem(certificatePem, 'issuerCertificatePem')
  const key = parsePrivateKeyPem(privateKeyPem, 'issuerPrivateKeyPem')
  const node = new X509Certificate(der)
  if (!node.ca) {
    throw new CertmqError('CA_NOT_CA', `issuerCertificatePem: ${node.subject.replace(/\n/g, ', ')} is not a CA certificate`,
      { fingerprint: node.fingerprint256.replace(/:/g, '').toLowerCase() })
  }
  if (!keyMatches(key, node)) {
    throw new CertmqError('PEM_INVALID', 'issuerPrivateKeyPem: the key does not belong to issuerCertificatePem', { where: 'issuerPrivateKeyPem' })
  }
  const certificate = new x509.X509Certificate(der)
  const { importParams, signingAlgorithm } = signingParamsOf(key)
  const signingKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), importParams, false, ['sign'])
  // RFC 5280 §4.2.1.1: the issuer's subjectKeyIdentifier when it has one
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension)
  const authorityKeyIdentifier = ski !== null
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey)
  return { certificate, signingKey, signingAlgorithm, authorityKeyIdentifier }
}

const EC_SIGNING: Readonly<Record<string, { namedCurve: string, hash: string }>> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' }
}

/** WebCrypto import parameters and signature algorithm for the issuer's key. */
function signingParamsOf (key: KeyObject): { importParams: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm, signingAlgorithm: SignParams } {
  const type = key.asymmetricKeyType
  if (type === 'rsa') {
    return { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } }
  }
  const ec = type === 'ec' ? EC_SIGNING[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined
  if (ec !== undefined) return { importParams: { name: 'ECDSA', namedCurve: ec.namedCurve }, signingAlgorithm: { name: 'ECDSA', hash: ec.hash } }
  if (type === 'ed25519') return { importParams: { name: 'Ed25519' }, signingAlgorithm: { name: 'Ed25519' } }
  throw new CertmqError('PEM_INVALID', `issuerPrivateKeyPem: a ${type ?? 'unknown'} key cannot sign here (use EC P-256/P-384/P-521, RSA or Ed25519)`,
    { where: 'issuerPrivateKeyPem', keyType: type })
}

function keyMatches (key: KeyObject, cert: X509Certificate): boolean {
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' })
  return fromKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))
}

/** SEC1 and PKCS#1 keys become PKCS#8, the one form WebCrypto imports. */
function toPkcs8Pem (key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string
}

async function generateKeys (algorithm: KeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(KEY_PARAMS[algorithm].generate, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
}

async function exportPrivateKey (key: webcrypto.CryptoKey): Promise<string> {
  return derToPem(new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key)), 'PRIVATE KEY')
}

/** 16 random bytes, high bit clear (positive, no sign byte) and non-zero first byte. */
function randomSerial (): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01
  return Buffer.from(bytes).toString('hex')
}

function subjectName (subject: { commonName: string, organizationalUnit?: string | undefined, organization?: string | undefined }): x509.JsonName {
  const name: x509.JsonName = []
  if (subject.organization !== undefined && subject.organization !== '') name.push({ O: [subject.organization] })
  if (subject.organizationalUnit !== undefined && subject.organizationalUnit !== '') name.push({ OU: [subject.organizationalUnit] })
  name.push({ CN: [subject.commonName] })
  return name
}

function checkCommon (commonName: string, field: string, validityDays: number, keyAlgorithm: KeyAlgorithm): void {
  if (typeof commonName !== 'string' || commonName.trim() === '') invalid(`${field}: must be a non-empty string`, field)
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 36500) {
    invalid(`validityDays: must be an integer from 1 to 36500, got ${String(validityDays)}`, 'validityDays')
  }
  if (!Object.hasOwn(KEY_PARAMS, keyAlgorithm)) {
    invalid(`keyAlgorithm: must be one of ${Object.keys(KEY_PARAMS).join(', ')}, got ${String(keyAlgorithm)}`, 'keyAlgorithm')
  }
}

function invalid (message: string, field: string): never {
  throw new CertmqError('VALIDATION_FAILED', message, { field })
}

async function makeDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new CertmqError('TLS_SETUP_FAILED', `cannot create directory ${dir} (${(err as Error).message})`, { path: dir }, { cause: err })
  }
}

async function readOptional (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CertmqError('TLS_SETUP_FAILED', `cannot read ${path} (${(err as Error).message})`, { path }, { cause: err })
  }
}

/** Write to a temporary name then rename, so a crash never leaves half a PEM behind. */
async function writeAtomically (path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  try {
    await writeFile(temporary, text, { mode })
    await chmod(temporary, mode) // the umask may have narrowed or the file may have existed
    await rename(temporary, path)
  } catch (err) {
    throw new CertmqError('TLS_SETUP_FAILED', `cannot write ${path} (${(err as Error).message})`, { path }, { cause: err })
  }
}
