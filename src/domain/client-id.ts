/**
 * PRODUCT §1.4: the client ID is the one in the CONNECT packet; if that is empty, the
 * certificate's registered Client ID; if that is empty too, the subject CN. Strict mode refuses
 * a non-empty packet client ID that is neither the registered Client ID nor the CN.
 */
import type { RejectReason } from './connect/reasons.js'

/** MQTT 3.1 §3.1: a client identifier of 1 to 23 characters (aedes' maxClientsIdLength refuses longer ones). */
export const MQTT31_MAX_CLIENT_ID_LENGTH = 23

export interface ClientIdInput {
  packetClientId: string
  registeredClientId: string | null
  commonName: string
  /** The CONNECT's clean-session flag. */
  clean: boolean
  strict: boolean
  /** The longest client ID the CONNECT's protocol carries (MQTT 3.1: 23); undefined for no limit (3.1.1). */
  maxLength?: number | undefined
}

export type ClientIdResult =
  | { ok: true; clientId: string; source: 'packet' | 'registered' | 'common_name' | 'assigned' }
  | { ok: false; reason: RejectReason }

export function resolveClientId (input: ClientIdInput): ClientIdResult {
  const resolved = resolve(input)
  // the broker would refuse it with CONNACK 2 itself: refused here, so it is logged and counted as such
  if (resolved.ok && input.maxLength !== undefined && resolved.clientId.length > input.maxLength) return { ok: false, reason: 'client_id_mismatch' }
  return resolved
}

function resolve (input: ClientIdInput): ClientIdResult {
  const { packetClientId, registeredClientId, commonName, clean, strict } = input
  if (packetClientId !== '') {
    if (strict && packetClientId !== registeredClientId && packetClientId !== commonName) {
      return { ok: false, reason: 'client_id_mismatch' }
    }
    return { ok: true, clientId: packetClientId, source: 'packet' }
  }
  if (registeredClientId !== null && registeredClientId !== '') {
    return { ok: true, clientId: registeredClientId, source: 'registered' }
  }
  if (commonName !== '') return { ok: true, clientId: commonName, source: 'common_name' }
  // [MQTT-3.1.3-6]: a clean session may get a server-assigned ID (aedes assigns it);
  // [MQTT-3.1.3-8]: a persistent session with nothing to name it by is identifier rejected
  return clean ? { ok: true, clientId: '', source: 'assigned' } : { ok: false, reason: 'client_id_mismatch' }
}
