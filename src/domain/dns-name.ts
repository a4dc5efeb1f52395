/** What a certificate's dNSName can hold: the rule for issued certificates and mqtts.serverNames. */

// RFC 5280 §4.2.1.6 dNSName (preferred name syntax; a leading wildcard label allowed)
const DNS_NAME = /^(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/

/** True when `name` can be a dNSName subject alternative name. */
export function isDnsName (name: string): boolean {
  return DNS_NAME.test(name)
}
