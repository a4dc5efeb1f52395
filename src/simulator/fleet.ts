/**
 * A simulated fleet on disk: a fleet CA (made here, or an existing one given by path) and N
 * device certificates with their own keys, subjects `CN=SN000001, OU=<fleet>, O=<org>`. The
 * fleet is cached in `<dir>/<fleet>/` and reused (and extended) by the next run with the same
 * CA, key type and organization. Keys are written 0600.
 *
 * Key generation and signing are WebCrypto jobs, which Node runs on its thread pool: issuing in
 * batches keeps every core busy without worker scripts.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto'
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CertmqError } from '../errors.js'
import { createCaCertificate, issueCertificate, prepareIssuer, type KeyAlgorithm } from '../pki/certificate-authority.js'
import { fingerprintOfPem } from '../pki/inspect.js'
import { TemplateIssuer } from './template-issuer.js'

export interface FleetOptions {
  dir: string
  fleet: string
  organization: string
  count: number
  keyAlgorithm: KeyAlgorithm
  /** An existing CA to issue from, instead of making one. */
  ca?: { certificatePem: string, privateKeyPem: string }
  validityDays?: number
  /** Called after each batch with the number of devices ready so far. */
  onProgress?: (ready: number, total: number) => void
}

export interface FleetDevice {
  /** 0-based position in the fleet; -1 for the monitor */
  index: number
  commonName: string
  certificatePem: string
  privateKeyPem: string
  /** SHA-256 of the DER: the certificate's id in certmq */
  fingerprint: string
}

export interface Fleet {
  name: string
  dir: string
  ca: { certificatePem: string, privateKeyPem: string, fingerprint: string }
  devices: FleetDevice[]
  /** how many devices this call generated (the rest came from the cache) */
  generated: number
}

interface Manifest {
  version: 1
  fleet: string
  organization: string
  keyAlgorithm: KeyAlgorithm
  caFingerprint: string
}

const BATCH = 64
const TEMPLATE_BATCH = 512
/** CNs are SN000001…SN999999: one length, which the template method relies on */
export const MAX_FLEET_SIZE = 999_999

export function deviceCommonName (index: number): string {
  return `SN${String(index + 1).padStart(6, '0')}`
}

export async function loadOrCreateFleet (options: FleetOptions): Promise<Fleet> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(options.fleet)) {
    throw new CertmqError('VALIDATION_FAILED', `fleet name "${options.fleet}" must be 1–64 letters, digits, '.', '_' or '-'`, { field: 'fleet' })
  }
  if (!Number.isInteger(options.count) || options.count < 1 || options.count > MAX_FLEET_SIZE) {
    throw new CertmqError('VALIDATION_FAILED', `a fleet has 1 to ${MAX_FLEET_SIZE} devices, asked for ${options.count}`, { field: 'devices' })
  }
  const dir = join(options.dir, options.fleet)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const ca = await fleetCa(dir, options)
  const manifest: Manifest = { version: 1, fleet: options.fleet, organization: options.organization, keyAlgorithm: options.keyAlgorithm, caFingerprint: ca.fingerprint }
  const cached = await readCachedDevices(dir, manifest)
  const devices = cached.slice(0, options.count)
  const validityDays = options.validityDays ?? 365
  options.onProgress?.(devices.length, options.count)
  const issuer = devices.length < options.count ? await prepareIssuer(ca.certificatePem, ca.privateKeyPem) : undefined
  const subject = { organizationalUnit: options.fleet, organization: options.organization }
  // EC P-256 fleets: the template method (seconds for 10,000); anything else the regular way
  const template = issuer !== undefined && options.keyAlgorithm === 'EC-P256'
    ? await TemplateIssuer.create(ca, issuer, subject, deviceCommonName(0), validityDays)
    : undefined
  while (devices.length < options.count) {
    const start = devices.length
    const batch = await Promise.all(Array.from({ length: Math.min(template === undefined ? BATCH : TEMPLATE_BATCH, options.count - start) }, async (_, k) => {
      const index = start + k
      if (template !== undefined) return { index, commonName: deviceCommonName(index), ...(await template.issue(deviceCommonName(index))) }
      const issued = await issueCertificate({
        issuerCertificatePem: ca.certificatePem,
        issuerPrivateKeyPem: ca.privateKeyPem,
        subject: { commonName: deviceCommonName(index), ...subject },
        keyAlgorithm: options.keyAlgorithm,
        validityDays,
        purpose: 'client',
        ...(issuer === undefined ? {} : { preparedIssuer: issuer })
      })
      return { index, commonName: deviceCommonName(index), certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, fingerprint: fingerprintOfPem(issued.certificatePem) }
    }))
    devices.push(...batch)
    options.onProgress?.(devices.length, options.count)
  }
  const generated = Math.max(0, devices.length - cached.length)
  if (generated > 0) await writeCachedDevices(dir, manifest, devices)
  return { name: options.fleet, dir, ca, devices, generated }
}

/**
 * The simulator's own client of a fleet (it watches the telemetry and sends the commands): a
 * certificate of the fleet CA with the subject `CN=<fleet>-monitor, OU=<fleet>, O=<org>`, cached
 * in `<dir>/<fleet>/monitor.json` beside the devices and made again when the CA changes.
 */
export async function loadOrCreateMonitor (fleet: Fleet, organization: string): Promise<FleetDevice> {
  const file = join(fleet.dir, 'monitor.json')
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { caFingerprint: string, organization: string, monitor: FleetDevice }
    if (saved.caFingerprint === fleet.ca.fingerprint && saved.organization === organization) return saved.monitor
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err
  }
  // not a device's name (no SN number), so it never turns into one when --devices grows
  const commonName = `${fleet.name}-monitor`
  const issued = await issueCertificate({
    issuerCertificatePem: fleet.ca.certificatePem,
    issuerPrivateKeyPem: fleet.ca.privateKeyPem,
    subject: { commonName, organizationalUnit: fleet.name, organization },
    keyAlgorithm: 'EC-P256',
    validityDays: 365,
    purpose: 'client'
  })
  const monitor: FleetDevice = { index: -1, commonName, certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, fingerprint: fingerprintOfPem(issued.certificatePem) }
  await writeJsonWhole(file, { caFingerprint: fleet.ca.fingerprint, organization, monitor })
  return monitor
}

async function fleetCa (dir: string, options: FleetOptions): Promise<Fleet['ca']> {
  if (options.ca !== undefined) {
    let fingerprint: string
    try {
      fingerprint = fingerprintOfPem(options.ca.certificatePem)
    } catch (err) {
      throw new CertmqError('PEM_INVALID', `the fleet CA certificate is not a PEM certificate (${(err as Error).message})`, { field: 'caCert' }, { cause: err })
    }
    return { ...options.ca, fingerprint }
  }
  const certFile = join(dir, 'ca.pem')
  const keyFile = join(dir, 'ca.key')
  const saved = await readCaPair(certFile, keyFile)
  if (saved !== undefined) return saved
  const made = await createCaCertificate({ commonName: `${options.fleet} fleet CA`, organization: options.organization, validityDays: 3650, keyAlgorithm: options.keyAlgorithm === 'EC-P384' ? 'EC-P384' : 'EC-P256' })
  const ours = { ...made, fingerprint: fingerprintOfPem(made.certificatePem) }
  // Two runs making the same new fleet at once must end up with one CA, not the key of one and
  // the certificate of the other: ca.key is claimed with link(), which fails when it exists, and
  // the run that claims it puts its certificate beside it; the other run takes that pair.
  const [keyTmp, certTmp] = [temporaryName(keyFile), temporaryName(certFile)]
  try {
    await writeFile(keyTmp, made.privateKeyPem, { mode: 0o600 })
    await writeFile(certTmp, made.certificatePem)
    try {
      await link(keyTmp, keyFile)
      await rename(certTmp, certFile)
      return ours
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    // claimed by another run: its certificate follows at once
    for (let i = 0; i < 50; i++) {
      const theirs = await readCaPair(certFile, keyFile)
      if (theirs !== undefined) return theirs
      await sleep(100)
    }
    // still no certificate that fits the key: a run was killed between the two files; start over
    await rename(keyTmp, keyFile)
    await rename(certTmp, certFile)
    return ours
  } finally {
    await Promise.all([rm(keyTmp, { force: true }), rm(certTmp, { force: true })])
  }
}

/** The cached fleet CA; undefined when either file is missing or the key is not the certificate's. */
async function readCaPair (certFile: string, keyFile: string): Promise<Fleet['ca'] | undefined> {
  let certificatePem: string
  let privateKeyPem: string
  try {
    [certificatePem, privateKeyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')])
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    if (!new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(privateKeyPem))) return undefined
  } catch {
    // a file cut short by a run that was killed while writing it
    return undefined
  }
  return { certificatePem, privateKeyPem, fingerprint: fingerprintOfPem(certificatePem) }
}

/** A name beside `file` that no other run, and no other call in this one, uses. */
function temporaryName (file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
}

async function readCachedDevices (dir: string, manifest: Manifest): Promise<FleetDevice[]> {
  let text: string
  try {
    text = await readFile(join(dir, 'devices.json'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  let saved: { manifest?: Partial<Manifest>, devices?: unknown } | null
  try {
    saved = JSON.parse(text) as typeof saved
  } catch {
    // cut short (a full disk) or not ours: a cache, so made again
    return []
  }
  const cached = saved?.manifest
  const same = cached !== undefined && cached.version === manifest.version && cached.fleet === manifest.fleet &&
    cached.organization === manifest.organization && cached.keyAlgorithm === manifest.keyAlgorithm &&
    cached.caFingerprint === manifest.caFingerprint
  return same && Array.isArray(saved?.devices) ? saved.devices as FleetDevice[] : []
}

/** Written to a temporary file and renamed, so an interrupted run never leaves half a cache. */
async function writeCachedDevices (dir: string, manifest: Manifest, devices: FleetDevice[]): Promise<void> {
  await writeJsonWhole(join(dir, 'devices.json'), { manifest, devices })
}

/** Keys inside: mode 0600, written to a temporary file and renamed, so `file` is never half written. */
async function writeJsonWhole (file: string, value: unknown): Promise<void> {
  const tmp = temporaryName(file)
  try {
    await writeFile(tmp, JSON.stringify(value), { mode: 0o600 })
    await chmod(tmp, 0o600)
    await rename(tmp, file)
  } finally {
    await rm(tmp, { force: true })
  }
}
