/** GET /api/v1/events: the audit event log, newest first, with filters and cursor paging. */
import type { FastifyInstance } from 'fastify'
import { DEFAULT_EVENT_PAGE_SIZE, EVENT_TYPES, type EventPage, type EventQuery } from '../../domain/event.js'
import { invalid, parseInstant, parseNameList } from '../../domain/query-params.js'
import { normalizeId } from '../../domain/certificate.js'
import { dropEmptyQueryValues } from '../query-values.js'
import { EventListBody, EventListQuery } from '../schemas/event.js'

export interface EventRouteOptions {
  events: { query (query: EventQuery): Promise<EventPage> }
}

export async function eventRoutes (app: FastifyInstance, { events }: EventRouteOptions): Promise<void> {
  app.get<{ Querystring: EventListQuery }>('/events', {
    preValidation: dropEmptyQueryValues,
    schema: { querystring: EventListQuery, response: { 200: EventListBody } }
  }, async (request) => await events.query(toEventQuery(request.query)))
}

export function toEventQuery (query: EventListQuery): EventQuery {
  const result: EventQuery = { limit: query.limit ?? DEFAULT_EVENT_PAGE_SIZE }
  const types = parseNameList('type', query.type, EVENT_TYPES, 'event type')
  if (types !== undefined) result.types = types
  if (query.actor !== undefined) result.actor = query.actor
  if (query.targetId !== undefined) result.targetId = normalizeId(query.targetId)
  if (query.reason !== undefined) {
    // connect reasons are lower snake case (revoked), CRL refusals error codes (CRL_STALE)
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(query.reason)) throw invalid('reason', `"${query.reason}" is not a reason code (e.g. revoked, CRL_STALE)`)
    result.reason = query.reason
  }
  if (query.from !== undefined) result.from = parseInstantOrDate('from', query.from, 'T00:00:00Z')
  // both bounds are inclusive: `to` as a date alone takes in the whole of that day
  if (query.to !== undefined) result.to = parseInstantOrDate('to', query.to, 'T23:59:59.999Z')
  if (result.from !== undefined && result.to !== undefined && result.from > result.to) {
    throw invalid('from', `${result.from} is after to (${result.to})`)
  }
  if (query.cursor !== undefined) result.cursor = query.cursor
  return result
}

/** An ISO 8601 instant with a zone, or a date alone (UTC) completed with `time`: its first or last millisecond. */
function parseInstantOrDate (field: string, value: string, time: 'T00:00:00Z' | 'T23:59:59.999Z'): string {
  return parseInstant(field, /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}${time}` : value)
}
