/**
 * The CONNECT decision of PRODUCT §1 as an ordered list of small checks. Pure: the adapter
 * gathers the facts (chain walk, registry lookups) and acts on the verdict (auto-registration,
 * CONNACK). The first failing check names the reason.
 */
import type { CaRecord } from '../ca.js'
import type { CertificateRecord } from '../certificate.js'
import { checkTrustedCa } from './checks/trusted-ca.js'
import { checkCaHost } from './checks/ca-host.js'
import { checkValidity } from './checks/validity.js'
import { checkClientUsage, type UsageFacts } from './checks/client-usage.js'
import { checkNotDenied } from './checks/denied.js'
import { checkRegistration, type RegistrationVerdict } from './checks/registration.js'
import type { RejectReason } from './reasons.js'

export interface ConnectFacts {
  nowMs: number
  /** The registered CA the certificate chains to, undefined when none. */
  ca: CaRecord | undefined
  /** The TLS server name (SNI) the device sent, normalized (domain/ca-hosts.ts); undefined when none. */
  servername: string | undefined
  usage: UsageFacts
  notBeforeMs: number
  notAfterMs: number
  /** On the deny list (revoked, maybe deleted since) or on a CRL the broker holds. */
  denied: boolean
  record: CertificateRecord | undefined
}

export function decideCertificate (facts: ConnectFacts): RegistrationVerdict {
  const caReason = checkTrustedCa(facts.ca)
  if (caReason !== undefined || facts.ca === undefined) return { kind: 'reject', reason: caReason ?? 'unknown_ca' }
  const reason =
    checkCaHost(facts.ca.hosts, facts.servername) ??
    checkValidity(facts.notBeforeMs, facts.notAfterMs, facts.nowMs) ??
    checkClientUsage(facts.usage) ??
    checkNotDenied(facts.denied)
  if (reason !== undefined) return { kind: 'reject', reason }
  return checkRegistration(facts.record, facts.ca)
}

/**
 * Whether an admitted session may stay after its CA changed (deactivated, re-bound to other
 * hosts, a CRL imported): the CA-dependent checks of decideCertificate, in the same order.
 */
export function recheckSession (ca: CaRecord, servername: string | undefined, onCrl: boolean): RejectReason | undefined {
  return checkTrustedCa(ca) ?? checkCaHost(ca.hosts, servername) ?? checkNotDenied(onCrl)
}
