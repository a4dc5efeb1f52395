/**
 * Audit events (issue 4 item 4): what happened to a certificate or CA and who did it, and which
 * connections were refused. Pure values: the event id format, the query and its matching rule.
 */

/** Extend here (append only: a name is public once shipped). */
export const EVENT_TYPES = [
  'certificate.registered',
  'certificate.activated',
  'certificate.deactivated',
  'certificate.revoked',
  'certificate.deleted',
  'ca.registered',
  'ca.activated',
  'ca.deactivated',
  'ca.deleted',
  'connect.rejected',
  'ca.hosts_changed',
  'ca.crl_imported',
  'ca.crl_refused',
  'ca.updated',
  'backup.created',
  'ca.registration_code_rotated'
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Who made a change: an admin token's name, or one of these. */
export const ACTOR_ADMIN = 'admin'
/** A device did it: automatic registration, a refused connection. */
export const ACTOR_DEVICE = 'device'
/** certmq itself (the built-in CA created at first start). */
export const ACTOR_SYSTEM = 'system'

export interface EventTarget {
  kind: 'certificate' | 'ca'
  id: string
}

/** Small facts only (serial, clientId, status from/to, remoteAddress…); never PEM or tokens. */
export type EventDetails = Record<string, string | number | boolean | null>

export interface AuditEvent {
  /** Monotonic and sortable: see formatEventId. */
  id: string
  /** ISO 8601 instant; the time part of `id`. */
  time: string
  type: EventType
  actor: string
  /** null for a refused connection that presented no certificate. */
  target: EventTarget | null
  /** The reject reason of a connect.rejected; optional otherwise. */
  reason?: string
  /** connect.rejected: the attempts this event stands for (retries within the window are counted, not stored). */
  count?: number
  /** connect.rejected: the latest attempt counted. */
  lastTime?: string
  details: EventDetails
}

/** An event before the log gives it an id and a time. */
export type NewEvent = Omit<AuditEvent, 'id' | 'time'>

export interface EventQuery {
  /** Any of these; empty or absent means any type. */
  types?: readonly EventType[]
  actor?: string
  targetId?: string
  reason?: string
  /** ISO instants, both inclusive. */
  from?: string
  to?: string
  /** 1..MAX_EVENT_PAGE_SIZE */
  limit: number
  /** nextCursor of the previous page. */
  cursor?: string
}

export interface EventPage {
  /** Newest first. */
  items: AuditEvent[]
  /** null on the last page; a page may hold fewer than `limit` items before the last one (scan budget). */
  nextCursor: string | null
}

export const DEFAULT_EVENT_PAGE_SIZE = 100
export const MAX_EVENT_PAGE_SIZE = 500

const MS_DIGITS = 15
const SEQ_DIGITS = 6
export const MAX_EVENT_SEQUENCE = 10 ** SEQ_DIGITS - 1
const EVENT_ID = /^(\d{15})-(\d{6})$/

/**
 * `<ms since epoch, 15 digits>-<sequence within the ms, 6 digits>`: string order is time order,
 * so an LMDB key range is a time range and "newest first" is a reverse scan.
 */
export function formatEventId (ms: number, sequence: number): string {
  return `${String(ms).padStart(MS_DIGITS, '0')}-${String(sequence).padStart(SEQ_DIGITS, '0')}`
}

/** Undefined when `id` is not an event id. */
export function parseEventId (id: string): { ms: number; sequence: number } | undefined {
  const match = EVENT_ID.exec(id)
  if (match === null) return undefined
  return { ms: Number(match[1]), sequence: Number(match[2]) }
}

/** A key below every event id of millisecond `ms` and above every earlier one. */
export function eventIdFloor (ms: number): string {
  return String(Math.max(0, ms)).padStart(MS_DIGITS, '0')
}

/** Issues ids that only ever grow, even when the clock steps back. */
export class EventIdSequence {
  private lastMs = -1
  private sequence = 0

  /**
   * Continues after `id` (the newest stored event), so ids never go backwards across a restart,
   * even when the clock was stepped back or the last run borrowed milliseconds ahead.
   */
  resumeAfter (id: string): void {
    const parsed = parseEventId(id)
    if (parsed === undefined) return
    const { ms, sequence } = parsed
    if (ms > this.lastMs || (ms === this.lastMs && sequence > this.sequence)) {
      this.lastMs = ms
      this.sequence = sequence
    }
  }

  next (nowMs: number): { id: string; ms: number } {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs
      this.sequence = 0
    } else if (this.sequence < MAX_EVENT_SEQUENCE) {
      this.sequence++
    } else {
      // a million events in one millisecond: borrow the next one
      this.lastMs++
      this.sequence = 0
    }
    return { id: formatEventId(this.lastMs, this.sequence), ms: this.lastMs }
  }
}

/** The predicate for the query's filters other than time (the id range covers from/to). */
export function eventFilter (query: EventQuery): (event: AuditEvent) => boolean {
  const types = query.types !== undefined && query.types.length > 0 ? new Set<string>(query.types) : undefined
  return (event) =>
    (types === undefined || types.has(event.type)) &&
    (query.actor === undefined || event.actor === query.actor) &&
    (query.targetId === undefined || event.target?.id === query.targetId) &&
    (query.reason === undefined || event.reason === query.reason)
}
