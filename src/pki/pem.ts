/**
 * PEM text in and out (RFC 7468). Parsing is strict inside the encapsulation boundaries on
 * purpose: a block is exactly what the operator meant or it is refused with PEM_INVALID and a
 * message that says what is wrong where. Text outside the blocks is skipped, as RFC 7468 §2 asks
 * of parsers and as OpenSSL and Mosquitto do: `openssl x509 -text` puts a readable dump before
 * the block, `openssl pkcs12` exports put "Bag Attributes" lines there.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { CertmqError } from '../errors.js'

export interface PemBlock {
  label: string
  der: Buffer
}

const BEGIN = /^-----BEGIN ([A-Z0-9][A-Z0-9 ]*)-----$/
const END = /^-----END ([A-Z0-9][A-Z0-9 ]*)-----$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Splits PEM text into its blocks, in order, skipping any text outside them. CRLF and whitespace
 * around lines are allowed. Throws PEM_INVALID (`where` prefixes the message) for a BEGIN without
 * END, mismatched labels, a malformed BEGIN or END line, an END line outside a block, or a body
 * that is not base64. Returns [] when there is no block at all; callers say what they expected.
 */
export function splitPemBlocks (text: string, where = 'PEM'): PemBlock[] {
  const fail = (what: string, details: Record<string, unknown> = {}): never => {
    throw new CertmqError('PEM_INVALID', `${where}: ${what}`, { where, ...details })
  }
  const blocks: PemBlock[] = []
  let open: { label: string, line: number, body: Array<{ text: string, line: number }> } | undefined
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    const lineNo = i + 1
    if (open === undefined) {
      const begin = BEGIN.exec(line)
      if (begin !== null) {
        open = { label: begin[1] ?? '', line: lineNo, body: [] }
        continue
      }
      // boundaries stay strict: a mangled BEGIN line would otherwise turn its block into
      // skipped text, and an END line alone means the block's start was lost
      if (END.test(line)) fail(`line ${lineNo}: END line without a BEGIN line`, { line: lineNo })
      if (line.startsWith('-----BEGIN') || line.startsWith('-----END')) {
        fail(`line ${lineNo}: malformed PEM boundary, expected -----BEGIN LABEL----- or -----END LABEL-----`, { line: lineNo })
      }
      continue
    }
    const end = END.exec(line)
    if (end !== null) {
      const n = blocks.length + 1
      if (end[1] !== open.label) {
        fail(`PEM block ${n}: BEGIN ${open.label} (line ${open.line}) is closed by END ${end[1] ?? ''} (line ${lineNo})`, { block: n })
      }
      const body = open.body.map((bodyLine) => bodyLine.text).join('')
      if (body === '') fail(`PEM block ${n} (${open.label}) has an empty body`, { block: n })
      if (!BASE64.test(body) || body.length % 4 !== 0) {
        // name the first line with a character outside base64 when there is one (a stray header, a paste error)
        const bad = open.body.find((bodyLine) => !/^[A-Za-z0-9+/=]*$/.test(bodyLine.text))
        fail(`PEM block ${n} (${open.label}): body is not valid base64${bad === undefined ? '' : ` (line ${bad.line})`}`,
          bad === undefined ? { block: n } : { block: n, line: bad.line })
      }
      blocks.push({ label: open.label, der: Buffer.from(body, 'base64') })
      open = undefined
      continue
    }
    if (BEGIN.test(line)) fail(`line ${lineNo}: BEGIN inside PEM block ${blocks.length + 1} (${open.label}), which has no END line`, { line: lineNo })
    open.body.push({ text: line, line: lineNo })
  }
  if (open !== undefined) fail(`PEM block ${blocks.length + 1} (${open.label}, line ${open.line}) has no END line`, { block: blocks.length + 1 })
  return blocks
}

/**
 * Parses text that must hold exactly one CERTIFICATE block whose body is one DER X.509
 * certificate. Returns the DER and a normalized PEM (LF, 64-column base64, final newline).
 * Throws PEM_INVALID with `where` in the message and in `details`.
 */
export function parseCertificatePem (pem: string, where: string): { der: Buffer, pem: string } {
  const blocks = certificateBlocks(pem, where)
  if (blocks.length > 1) {
    throw new CertmqError('PEM_INVALID', `${where}: ${blocks.length} CERTIFICATE blocks found, expected exactly one`,
      { where, blocks: blocks.length })
  }
  const der = (blocks[0] as PemBlock).der
  checkedCertificate(der, where)
  return { der, pem: derToPem(der, 'CERTIFICATE') }
}

/**
 * Every certificate in `pem`, in order (a bundle of one or more CERTIFICATE blocks), each checked
 * as parseCertificatePem checks one. Throws PEM_INVALID naming the block.
 */
export function parseCertificatesPem (pem: string, where: string): X509Certificate[] {
  const blocks = certificateBlocks(pem, where)
  return blocks.map((block, i) => checkedCertificate(block.der, blocks.length === 1 ? where : `${where} block ${i + 1}`))
}

/** The PEM blocks of `pem`, at least one, all CERTIFICATE. */
function certificateBlocks (pem: string, where: string): PemBlock[] {
  if (typeof pem !== 'string') {
    throw new CertmqError('PEM_INVALID', `${where}: expected PEM text, got ${pem === null ? 'null' : typeof pem}`, { where })
  }
  const blocks = splitPemBlocks(pem, where)
  if (blocks.length === 0) {
    throw new CertmqError('PEM_INVALID', `${where}: no PEM block found (expected -----BEGIN CERTIFICATE-----)`, { where })
  }
  blocks.forEach((block, i) => {
    if (block.label !== 'CERTIFICATE') {
      throw new CertmqError('PEM_INVALID', `${where}: PEM block ${i + 1} is ${article(block.label)} ${block.label}, expected CERTIFICATE`,
        { where, block: i + 1, label: block.label })
    }
  })
  return blocks
}

/** The certificate a block's body holds; PEM_INVALID when it is not exactly one DER certificate. */
function checkedCertificate (der: Buffer, where: string): X509Certificate {
  try {
    // node:crypto (OpenSSL) would ignore bytes after the certificate; the outer length must match
    if (derSequenceLength(der) !== der.length) throw new Error('DER length does not match the body')
    return new X509Certificate(der)
  } catch (err) {
    throw new CertmqError('PEM_INVALID', `${where}: base64 body is not a DER certificate (${(err as Error).message})`,
      { where }, { cause: err })
  }
}

/**
 * Reads the one private key in `pem` (PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#1
 * `RSA PRIVATE KEY`; an `EC PARAMETERS` block beside it is ignored). Encrypted keys are refused.
 * Throws PEM_INVALID.
 */
export function parsePrivateKeyPem (pem: string, where: string): KeyObject {
  const blocks = splitPemBlocks(pem, where).filter((block) => block.label !== 'EC PARAMETERS')
  const keys = blocks.filter((block) => KEY_LABELS.has(block.label))
  const other = blocks.findIndex((block) => !KEY_LABELS.has(block.label))
  if (other !== -1) {
    const label = blocks[other]?.label ?? ''
    throw new CertmqError('PEM_INVALID', `${where}: ${article(label)} ${label} block, expected an unencrypted PRIVATE KEY`, { where, label })
  }
  if (keys.length !== 1) {
    throw new CertmqError('PEM_INVALID', `${where}: ${keys.length === 0 ? 'no private key block found' : `${keys.length} private keys found, expected one`}`, { where })
  }
  const key = keys[0] as PemBlock
  try {
    return createPrivateKey({ key: derToPem(key.der, key.label), format: 'pem' })
  } catch (err) {
    throw new CertmqError('PEM_INVALID', `${where}: ${key.label} body is not a usable private key (${(err as Error).message})`,
      { where }, { cause: err })
  }
}

const KEY_LABELS = new Set(['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'])

/** DER to PEM: 64-column base64, LF line ends, final newline. */
export function derToPem (der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** PEM blocks one after the other, leaf first, as a TLS certificate chain file holds them; one final newline. */
export function pemChain (...pems: string[]): string {
  return pems.map((pem) => `${pem.trimEnd()}\n`).join('')
}

/** "an EC PRIVATE KEY", "a PRIVATE KEY": labels are read letter by letter where they are acronyms. */
function article (label: string): string {
  return /^(?:[AEIOU]|RSA\b|X509\b)/.test(label) ? 'an' : 'a'
}

/** Total length (header + content) of the DER SEQUENCE at the start of `der`, or -1. */
function derSequenceLength (der: Buffer): number {
  if (der.length < 2 || der[0] !== 0x30) return -1
  const first = der[1] as number
  if (first < 0x80) return 2 + first
  const count = first & 0x7f
  if (count === 0 || count > 4 || der.length < 2 + count) return -1
  let length = 0
  for (let i = 0; i < count; i++) length = length * 256 + (der[2 + i] as number)
  return 2 + count + length
}
