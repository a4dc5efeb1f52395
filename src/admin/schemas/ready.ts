/** GET /readyz: whether this node should get traffic (listeners up and the registry answering). */
import { Type, type Static } from '@sinclair/typebox'
import { stringEnum } from './common.js'

export const ReadyBody = Type.Object({
  status: stringEnum(['ready', 'not_ready'] as const),
  mqtts: Type.Boolean({ description: 'The MQTTS listener accepts connections' }),
  admin: Type.Boolean({ description: 'The admin API listener accepts connections' }),
  store: Type.Boolean({ description: 'The registry store answered a read just now' })
})
export type ReadyBody = Static<typeof ReadyBody>
