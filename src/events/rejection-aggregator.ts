/**
 * Refused connections, aggregated so that a storm of retries cannot flood the event log: per
 * (certificate fingerprint, or remote address when no certificate was sent; reason) the first
 * refusal within a window appends a `connect.rejected` event, and the following ones only raise
 * its `count` (and `lastTime`). The log commits the latest count with its next batch, so one device
 * retrying 1,000 times in a minute makes one event with count 1000.
 */
import { ACTOR_DEVICE, type AuditEvent, type EventDetails } from '../domain/event.js'
import type { EventLog } from '../store/ports.js'
import type { RefusedConnect } from '../auth/connect-observer.js'

/** A refused CONNECT as the CONNECT path reports it (auth/connect-observer.ts). */
export type RejectedConnect = RefusedConnect

const MAX_CLIENT_ID_CHARS = 256

interface OpenWindow {
  key: string
  event: AuditEvent
  endsAt: number
}

export class RejectionAggregator {
  private readonly windows = new Map<string, OpenWindow>()
  /**
   * Windows in the order they opened, which is the order they end (all are as long): expiry and
   * eviction take from the head. A queue rather than the Map's own order, because V8 keeps
   * deleted Map entries as holes that every iteration from the start walks over again.
   */
  private order: OpenWindow[] = []
  private head = 0

  /**
   * @param windowMs length of an aggregation window
   * @param maxWindows open windows kept; beyond it the oldest closes early (a flood of distinct
   *   certificates or addresses then costs one event each, which is what they are)
   */
  constructor (private readonly log: EventLog, private readonly windowMs: number, private readonly maxWindows = 10_000) {}

  /** Counts one refusal at `nowMs`; returns the event it was counted in. An in-memory step. */
  record (attempt: RejectedConnect, nowMs: number): AuditEvent {
    this.closeExpired(nowMs)
    const key = `${attempt.reason}|${attempt.fingerprint ?? `address:${attempt.remoteAddress ?? ''}`}`
    const open = this.windows.get(key)
    if (open !== undefined && open.endsAt > nowMs) {
      const event: AuditEvent = { ...open.event, count: (open.event.count ?? 1) + 1, lastTime: new Date(nowMs).toISOString() }
      open.event = event
      this.log.replace(event)
      return event
    }
    const event = this.log.append({
      type: 'connect.rejected',
      actor: ACTOR_DEVICE,
      target: attempt.fingerprint === undefined ? null : { kind: 'certificate', id: attempt.fingerprint },
      reason: attempt.reason,
      count: 1,
      details: detailsOf(attempt)
    })
    const window: OpenWindow = { key, event, endsAt: nowMs + this.windowMs }
    this.windows.set(key, window)
    this.order.push(window)
    while (this.windows.size > this.maxWindows) this.closeOldest()
    return event
  }

  /** Open windows (for tests and the benchmark). */
  get size (): number {
    return this.windows.size
  }

  private closeExpired (nowMs: number): void {
    while (this.head < this.order.length && (this.order[this.head] as OpenWindow).endsAt <= nowMs) this.closeOldest()
  }

  private closeOldest (): void {
    const oldest = this.order[this.head++] as OpenWindow
    // a key whose window was reopened maps to the newer window: leave that one open
    if (this.windows.get(oldest.key) === oldest) this.windows.delete(oldest.key)
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head)
      this.head = 0
    }
  }
}

function detailsOf (attempt: RejectedConnect): EventDetails {
  const details: EventDetails = {}
  if (attempt.serial !== undefined) details['serial'] = attempt.serial
  if (attempt.caId !== undefined) details['caId'] = attempt.caId
  // the client chose it (up to 64 KiB in MQTT): keep the event small
  if (attempt.clientId !== undefined && attempt.clientId !== '') details['clientId'] = attempt.clientId.slice(0, MAX_CLIENT_ID_CHARS)
  if (attempt.remoteAddress !== undefined) details['remoteAddress'] = attempt.remoteAddress
  if (attempt.node !== undefined) details['node'] = attempt.node
  return details
}
