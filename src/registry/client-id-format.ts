/** What a registered Client ID may look like: MQTT allows any well-formed UTF-8, we keep it printable. */
import { CertmqError } from '../errors.js'

export const MAX_CLIENT_ID_LENGTH = 256

/**
 * Refuses a lone UTF-16 surrogate too (JSON allows `"\ud800"`; isWellFormed): no device can send it,
 * since MQTT strings are well-formed UTF-8 without U+D800..U+DFFF [MQTT-1.5.3-1], and the store
 * would keep it as U+FFFD, so two such IDs the uniqueness check told apart would be stored as one.
 */
export function validateClientId (clientId: string, where: string): string {
  // eslint-disable-next-line no-control-regex
  if (clientId.length > MAX_CLIENT_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(clientId) || !clientId.isWellFormed() ||
    clientId.trim() !== clientId) {
    throw new CertmqError('VALIDATION_FAILED',
      `${where}: a Client ID is 1–${MAX_CLIENT_ID_LENGTH} printable characters (well-formed Unicode) without leading or trailing spaces`,
      { field: where })
  }
  return clientId
}
