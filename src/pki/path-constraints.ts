/**
 * The parts of RFC 5280 path validation that the chain walk (chain.ts: names, signatures, CA:TRUE)
 * and the leaf checks (domain/connect/checks) leave out, close to what OpenSSL's TLS-client
 * purpose check refuses (it is stricter in one place, policy constraints, which OpenSSL enforces
 * only when asked):
 * - **pathLenConstraint**: a CA may have at most that many intermediates below it (§4.2.1.9);
 * - **critical extensions**: one certmq does not process makes the certificate unusable
 *   (§4.2.1). Name constraints and the policy extensions are among them: certmq does not
 *   enforce them, so a chain through a CA that carries one is refused rather than trusted past
 *   a limit its issuer set;
 * - **an intermediate's extendedKeyUsage**, when present, must name clientAuth (as OpenSSL's
 *   purpose check of a TLS client chain requires).
 * Read with @peculiar/x509 (about as costly as inspecting the certificate), so only where it
 * decides something: before a registration, automatic or manual, and for a registered device
 * whose recorded path has expired (connect-service renewedPath); trusted CAs once per CA set.
 */
import { x509 } from './x509-setup.js'
import { OID_CLIENT_AUTH } from '../domain/connect/checks/client-usage.js'

/** What a CA certificate imposes on the paths through it. */
export interface CaConstraints {
  subject: string
  /** basicConstraints pathLenConstraint; undefined when unlimited. */
  pathLength: number | undefined
  /** Why no path may go through it (an extension certmq does not enforce); undefined when none. */
  unsupported: string | undefined
  /** extendedKeyUsage OIDs, or null when absent. */
  extendedKeyUsage: readonly string[] | null
  /** subject equals issuer: does not count towards a pathLenConstraint above it. */
  selfIssued: boolean
}

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  certificatePolicies: '2.5.29.32',
  crlDistributionPoints: '2.5.29.31',
  nameConstraints: '2.5.29.30',
  policyConstraints: '2.5.29.36',
  policyMappings: '2.5.29.33',
  inhibitAnyPolicy: '2.5.29.54'
} as const

/**
 * Critical extensions certmq accepts: those it processes, and those OpenSSL accepts critical that
 * restrict nothing on their own (certificatePolicies: without policyConstraints no path requires
 * a policy; CRL distribution points). Any other critical one (issuerAltName and the key
 * identifiers too, as OpenSSL) makes the certificate unusable.
 */
const HANDLED_CRITICAL: ReadonlySet<string> = new Set([
  OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.certificatePolicies, OID.crlDistributionPoints
])

/** Extensions that restrict the paths below a CA and that certmq does not enforce, critical or not. */
const UNENFORCED: ReadonlyMap<string, string> = new Map([
  [OID.nameConstraints, 'name constraints'],
  [OID.policyConstraints, 'policy constraints'],
  [OID.policyMappings, 'policy mappings'],
  [OID.inhibitAnyPolicy, 'inhibitAnyPolicy']
])

/** Why a certificate's extensions make it unusable to certmq, or undefined when they do not. */
export function unsupportedExtension (der: Uint8Array | x509.X509Certificate): string | undefined {
  const cert = der instanceof x509.X509Certificate ? der : new x509.X509Certificate(der)
  for (const ext of cert.extensions) {
    const unenforced = UNENFORCED.get(ext.type)
    if (unenforced !== undefined) return `it carries ${unenforced} (${ext.type}), which certmq does not enforce`
    if (ext.critical && !HANDLED_CRITICAL.has(ext.type)) return `it carries the critical extension ${ext.type}, which certmq does not process`
  }
  return undefined
}

export function caConstraintsOf (der: Uint8Array): CaConstraints {
  const cert = new x509.X509Certificate(der)
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)
  return {
    subject: cert.subject,
    pathLength: cert.getExtension(x509.BasicConstraintsExtension)?.pathLength,
    unsupported: unsupportedExtension(cert),
    extendedKeyUsage: eku === null ? null : Array.from(eku.usages, String),
    selfIssued: cert.subject === cert.issuer
  }
}

/**
 * Why the path leaf → intermediates (leaf side first) → CA is not acceptable, or undefined when
 * it is. The signatures and CA:TRUE were checked by the chain walk, validity dates by the caller.
 */
export function pathProblem (leafDer: Uint8Array, intermediates: readonly Uint8Array[], ca: CaConstraints): string | undefined {
  const leafProblem = unsupportedExtension(leafDer)
  if (leafProblem !== undefined) return `the certificate: ${leafProblem}`
  // how many intermediates (not self-issued) lie below each CA of the path
  let below = 0
  for (const der of intermediates) {
    const intermediate = caConstraintsOf(der)
    const problem = caProblem(intermediate, below)
    if (problem !== undefined) return `intermediate ${intermediate.subject}: ${problem}`
    // clientAuth itself: OpenSSL's purpose check does not take anyExtendedKeyUsage on an intermediate
    const eku = intermediate.extendedKeyUsage
    if (eku !== null && !eku.includes(OID_CLIENT_AUTH)) {
      return `intermediate ${intermediate.subject}: its extendedKeyUsage does not allow clientAuth`
    }
    if (!intermediate.selfIssued) below++
  }
  const problem = caProblem(ca, below)
  return problem === undefined ? undefined : `CA ${ca.subject}: ${problem}`
}

function caProblem (ca: CaConstraints, below: number): string | undefined {
  if (ca.unsupported !== undefined) return ca.unsupported
  if (ca.pathLength !== undefined && below > ca.pathLength) {
    return `its pathLenConstraint ${ca.pathLength} allows ${ca.pathLength} intermediate${ca.pathLength === 1 ? '' : 's'} below it, the path has ${below}`
  }
  return undefined
}
