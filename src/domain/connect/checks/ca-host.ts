// PRODUCT §2: a CA bound to listener hostnames is trusted only on connections whose TLS server
// name (SNI) is one of them; an unbound CA is trusted on every connection. A device that sends
// no server name cannot match a bound CA.
import type { RejectReason } from '../reasons.js'

export function checkCaHost (hosts: readonly string[], servername: string | undefined): RejectReason | undefined {
  if (hosts.length === 0) return undefined
  if (servername === undefined || !hosts.includes(servername)) return 'ca_host_mismatch'
  return undefined
}
