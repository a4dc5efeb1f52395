/** GET /api/v1/events: the audit event log, newest first, with filters and cursor paging. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { DEFAULT_EVENT_PAGE_SIZE, EVENT_TYPES, type EventPage, type EventQuery, type EventType } from '../../domain/event.js'
import { CertmqError } from '../../errors.js'
import { normalizeId } from '../../registry/ca-service.js'
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

async function dropEmptyQueryValues (request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>
  for (const [key, value] of Object.entries(query)) {
    if (value === '') delete query[key]
    if (Array.isArray(value)) {
      const kept = value.filter((item) => item !== '')
      if (kept.length === 0) delete query[key]
      else query[key] = kept
    }
  }
}

export function toEventQuery (query: EventListQuery): EventQuery {
  const result: EventQuery = { limit: query.limit ?? DEFAULT_EVENT_PAGE_SIZE }
  if (query.type !== undefined) result.types = parseTypes(query.type)
  if (query.actor !== undefined) result.actor = query.actor
  if (query.targetId !== undefined) result.targetId = normalizeId(query.targetId)
  if (query.reason !== undefined) {
    if (!/^[a-z][a-z0-9_]*$/.test(query.reason)) throw invalid('reason', `"${query.reason}" is not a reason code (lower snake case, e.g. revoked)`)
    result.reason = query.reason
  }
  if (query.from !== undefined) result.from = parseInstant('from', query.from)
  if (query.to !== undefined) result.to = parseInstant('to', query.to)
  if (result.from !== undefined && result.to !== undefined && result.from > result.to) {
    throw invalid('from', `${result.from} is after to (${result.to})`)
  }
  if (query.cursor !== undefined) result.cursor = query.cursor
  return result
}

/** `a,b` and repeated parameters alike; an unknown name is a 400 naming `type`. */
function parseTypes (values: readonly string[]): EventType[] {
  const names = [...new Set(values.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== ''))]
  for (const name of names) {
    if (!(EVENT_TYPES as readonly string[]).includes(name)) {
      throw invalid('type', `"${name}" is not an event type (allowed: ${EVENT_TYPES.join(', ')})`, { allowedValues: [...EVENT_TYPES] })
    }
  }
  return names as EventType[]
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

/** An ISO 8601 date or instant with a zone, as a normalised ISO instant. */
function parseInstant (field: string, value: string): string {
  const ms = ISO.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw invalid(field, `"${value}" is not an ISO 8601 date or instant with a time zone (e.g. 2026-01-31T12:00:00Z)`)
  return new Date(ms).toISOString()
}

function invalid (field: string, why: string, extra: Record<string, unknown> = {}): CertmqError {
  return new CertmqError('VALIDATION_FAILED', `querystring/${field}: ${why}`, { location: 'querystring', field, ...extra })
}
