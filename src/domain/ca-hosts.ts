/**
 * Listener hostnames a CA is bound to (PRODUCT §2, TLS SNI). A name is what a device puts in the
 * server_name extension: a DNS hostname (RFC 6066 §3: never an IP literal), compared without
 * regard to case (RFC 4343).
 */
import { CertmqError } from '../errors.js'

/** Most hostnames one CA is bound to (PRODUCT §2: up to 50 per request; a request replaces them). */
export const MAX_CA_HOSTS = 50

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** Whether `name` (already lowercase) is a DNS hostname: LDH labels of 1–63, at most 253 in all, not all-numeric at the end. */
export function isHostname (name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  if (!labels.every((label) => LABEL.test(label))) return false
  // a numeric last label would make it an IPv4 literal, which SNI never carries
  return !/^[0-9]+$/.test(labels.at(-1) ?? '')
}

/**
 * Lowercases, drops one trailing dot, validates and deduplicates (first occurrence kept).
 * Throws VALIDATION_FAILED naming `field` and the index of the first bad name.
 */
export function normalizeHosts (hosts: readonly string[], field = 'hosts'): string[] {
  if (hosts.length > MAX_CA_HOSTS) {
    throw new CertmqError('VALIDATION_FAILED', `body/${field} must NOT have more than ${MAX_CA_HOSTS} items`,
      { location: 'body', field, rule: 'maxItems', limit: MAX_CA_HOSTS })
  }
  const seen = new Set<string>()
  hosts.forEach((raw, index) => {
    const name = raw.toLowerCase().replace(/\.$/, '')
    if (!isHostname(name)) {
      throw new CertmqError('VALIDATION_FAILED',
        `body/${field}/${index}: ${JSON.stringify(raw)} is not a DNS hostname (letters, digits and hyphens in dot-separated labels, no IP address, no wildcard)`,
        { location: 'body', field: `${field}.${index}`, rule: 'hostname', value: raw })
    }
    seen.add(name)
  })
  return [...seen]
}

/** The TLS server name as the binding compares it: lowercase, without a trailing dot; undefined when none was sent. */
export function normalizeServerName (servername: string | false | null | undefined): string | undefined {
  if (typeof servername !== 'string' || servername === '') return undefined
  return servername.toLowerCase().replace(/\.$/, '')
}
