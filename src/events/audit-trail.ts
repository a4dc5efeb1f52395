/**
 * What the registry services and the CONNECT path call to record events. Operators' changes are
 * written right after the change commits, in their own transaction (concurrent changes share it),
 * and the API answers only once that event is durable; device events (automatic registrations, refused connections) are
 * in-memory pushes committed with the next batch, so they add no disk flush to a CONNECT.
 */
import type { NewEvent } from '../domain/event.js'
import type { Logger } from '../log.js'
import type { EventLog } from '../store/ports.js'
import { RejectionAggregator, type RejectedConnect } from './rejection-aggregator.js'

export interface AuditTrailDeps {
  log: EventLog
  now: () => Date
  /** Refusals of one device for one reason within this window make one event. */
  rejectionWindowMs: number
  logger: Logger
}

export class AuditTrail {
  private readonly rejections: RejectionAggregator

  constructor (private readonly deps: AuditTrailDeps) {
    this.rejections = new RejectionAggregator(deps.log, deps.rejectionWindowMs)
  }

  /**
   * Records an operator's change that has just been committed; resolves once the event is
   * durable. A failure is logged, not thrown: the change itself has happened and stays.
   */
  async recordChange (event: NewEvent): Promise<void> {
    this.deps.log.append(event)
    try {
      await this.deps.log.flush()
    } catch (err) {
      this.deps.logger.warn({ event: 'events.write_failed', type: event.type, err }, 'could not write an event')
    }
  }

  /** A change a device caused (automatic registration): queued, committed with the next batch. */
  recordDeviceEvent (event: NewEvent): void {
    this.deps.log.append(event)
  }

  /** A refused CONNECT, aggregated per device and reason (rejection-aggregator.ts). */
  connectRejected (attempt: RejectedConnect): void {
    this.rejections.record(attempt, this.deps.now().getTime())
  }
}
