/** GET /healthz: whether both listeners are up. */
import { Type, type Static } from '@sinclair/typebox'
import { stringEnum } from './common.js'

export const HealthBody = Type.Object({
  status: stringEnum(['ok', 'unavailable'] as const),
  mqtts: Type.Boolean({ description: 'The MQTTS listener accepts connections' }),
  admin: Type.Boolean({ description: 'The admin API listener accepts connections' })
})
export type HealthBody = Static<typeof HealthBody>
