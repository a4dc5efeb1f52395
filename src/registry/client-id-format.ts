/** What a registered Client ID may look like: MQTT allows any UTF-8, we keep it printable. */
import { CertmqError } from '../errors.js'

export const MAX_CLIENT_ID_LENGTH = 256

export function validateClientId (clientId: string, where: string): string {
  // eslint-disable-next-line no-control-regex
  if (clientId.length > MAX_CLIENT_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(clientId) || clientId.trim() !== clientId) {
    throw new CertmqError('VALIDATION_FAILED',
      `${where}: a Client ID is 1–${MAX_CLIENT_ID_LENGTH} printable characters without leading or trailing spaces`,
      { field: where })
  }
  return clientId
}
