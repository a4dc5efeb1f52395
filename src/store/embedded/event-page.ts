/**
 * Paging of the embedded event log: the cursor, the limit, and the reverse key ranges a query
 * reads, over the events (keys: event ids) or over the target index (keys:
 * `<target id>/<event id>`; target ids are SHA-256 fingerprints in hex, so never hold a `/`).
 */
import { CertmqError } from '../../errors.js'
import { eventIdFloor, parseEventId, type EventQuery } from '../../domain/event.js'

/** A reverse range in event-id space: ids below `start` (exclusive when asked), down to `end` (exclusive). */
export interface IdRange {
  start?: string
  exclusiveStart?: boolean
  end?: string
}

/** Key of the target index entry of one event. */
export function targetKey (targetId: string, eventId: string): string {
  return `${targetId}/${eventId}`
}

/** The same range over the target index entries of `targetId`. */
export function targetRange (targetId: string, range: IdRange): IdRange {
  const prefix = `${targetId}/`
  // '~' sorts above every character of an event id, the bare prefix below all of them
  const result: IdRange = { start: prefix + (range.start ?? '~'), end: prefix + (range.end ?? '') }
  if (range.exclusiveStart === true) result.exclusiveStart = true
  return result
}

/** The reverse key range of a query: below the cursor (exclusive) and `to`, down to `from`. */
export function rangeOf (query: EventQuery, after: string | undefined): IdRange {
  const range: IdRange = {}
  // floor(to + 1 ms) sorts above every id of `to`'s millisecond and is itself never an id
  const below = query.to === undefined ? undefined : eventIdFloor(Date.parse(query.to) + 1)
  if (after !== undefined && (below === undefined || after < below)) {
    range.start = after
    range.exclusiveStart = true
  } else if (below !== undefined) {
    range.start = below
  }
  if (query.from !== undefined) range.end = eventIdFloor(Date.parse(query.from))
  return range
}

export function encodeEventCursor (lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url')
}

/** The id the page continues below, or undefined for the first page. Throws VALIDATION_FAILED. */
export function decodeEventCursor (cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined
  const lastId = Buffer.from(cursor, 'base64url').toString('utf8')
  if (parseEventId(lastId) === undefined || encodeEventCursor(lastId) !== cursor) {
    throw new CertmqError('VALIDATION_FAILED', 'querystring/cursor: not a cursor returned by a previous page of events',
      { location: 'querystring', field: 'cursor' })
  }
  return lastId
}

