/** Request and response schemas of GET /api/v1/events (issue 4 item 4). */
import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_EVENT_PAGE_SIZE, EVENT_TYPES, MAX_EVENT_PAGE_SIZE } from '../../domain/event.js'
import { instant, stringEnum } from './common.js'

/**
 * Filters, combinable. `type` may repeat (`type=a&type=b`) or list several with commas. Empty
 * values mean "no filter" (the route drops them before validation).
 */
export const EventListQuery = Type.Object({
  type: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), {
    maxItems: 32,
    description: `Event types, any of: ${EVENT_TYPES.join(', ')}; repeat the parameter or separate with commas`
  })),
  actor: Type.Optional(Type.String({ maxLength: 128, description: 'admin token name, `device` or `system`' })),
  targetId: Type.Optional(Type.String({ maxLength: 128, description: 'Certificate or CA id (SHA-256 fingerprint)' })),
  reason: Type.Optional(Type.String({ maxLength: 64, description: 'Reject reason of connect.rejected events, e.g. revoked' })),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 instant or date, inclusive' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 instant or date, inclusive' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE_SIZE, default: DEFAULT_EVENT_PAGE_SIZE })),
  cursor: Type.Optional(Type.String({ maxLength: 256, description: 'nextCursor of the previous page' }))
}, { additionalProperties: false })
export type EventListQuery = Static<typeof EventListQuery>

export const EventBody = Type.Object({
  id: Type.String({ description: 'Monotonic and sortable: <ms since epoch>-<sequence>' }),
  time: instant(),
  type: stringEnum(EVENT_TYPES),
  actor: Type.String({ description: 'admin token name, `device` or `system`' }),
  target: Type.Union([
    Type.Object({ kind: stringEnum(['certificate', 'ca'] as const), id: Type.String() }),
    Type.Null()
  ], { description: 'null for a refused connection without a certificate' }),
  reason: Type.Optional(Type.String({ description: 'The reject reason of connect.rejected' })),
  count: Type.Optional(Type.Integer({ description: 'connect.rejected: attempts within the aggregation window' })),
  lastTime: Type.Optional(instant('connect.rejected: the latest attempt counted')),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
    description: 'Small facts: serial, clientId, status from/to, remoteAddress…'
  })
})
export type EventBody = Static<typeof EventBody>

export const EventListBody = Type.Object({
  items: Type.Array(EventBody, { description: 'Newest first' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as cursor for the next (older) page; null on the last page. A page may be shorter than limit before the last one'
  })
})
export type EventListBody = Static<typeof EventListBody>
