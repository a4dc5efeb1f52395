/**
 * Why a CONNECT was refused (PRODUCT §1), and the MQTT 3.1.1 CONNACK return code for each:
 * 1 unacceptable protocol version, 2 identifier rejected, 3 server unavailable, 5 not authorized.
 */
export const REJECT_REASONS = {
  // not MQTT 3.1 or 3.1.1 (aedes speaks those only): refused before any certificate decision,
  // so an MQTT 5 device is neither registered nor counted as accepted
  unsupported_protocol: 1,
  no_certificate: 5,
  unknown_ca: 5,
  ca_inactive: 5,
  // the CA is bound to listener hostnames and the TLS server name (SNI) is none of them
  ca_host_mismatch: 5,
  // the path to the CA breaks a rule of RFC 5280 that the chain walk does not: a pathLenConstraint,
  // an extension certmq does not enforce (name constraints), an intermediate not for clientAuth
  invalid_chain: 5,
  expired: 5,
  not_yet_valid: 5,
  not_client_cert: 5,
  unregistered: 5,
  inactive: 5,
  pending_activation: 5,
  revoked: 5,
  rate_limited: 3,
  // the store could not be asked: the device may retry, as with rate_limited
  store_unavailable: 3,
  client_id_mismatch: 2
} as const satisfies Record<string, 1 | 2 | 3 | 5>

export type RejectReason = keyof typeof REJECT_REASONS
export type ConnackCode = (typeof REJECT_REASONS)[RejectReason]

export function connackCodeFor (reason: RejectReason): ConnackCode {
  return REJECT_REASONS[reason]
}
