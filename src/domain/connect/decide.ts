/**
 * The CONNECT decision of PRODUCT §1 as an ordered list of small checks. Pure: the adapter
 * gathers the facts (chain walk, registry lookups) and acts on the verdict (auto-registration,
 * CONNACK). The first failing check names the reason.
 */
import type { CaRecord } from '../ca.js'
import type { CertificateRecord } from '../certificate.js'
import { checkTrustedCa } from './checks/trusted-ca.js'
import { checkValidity } from './checks/validity.js'
import { checkClientUsage, type UsageFacts } from './checks/client-usage.js'
import { checkNotDenied } from './checks/denied.js'
import { checkRegistration, type RegistrationVerdict } from './checks/registration.js'

export interface ConnectFacts {
  nowMs: number
  /** The registered CA the certificate chains to, undefined when none. */
  ca: CaRecord | undefined
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
    checkValidity(facts.notBeforeMs, facts.notAfterMs, facts.nowMs) ??
    checkClientUsage(facts.usage) ??
    checkNotDenied(facts.denied)
  if (reason !== undefined) return { kind: 'reject', reason }
  return checkRegistration(facts.record, facts.ca)
}
