/**
 * What the registry services and the CONNECT path call to record events. Operators' changes are
 * written right after the change commits, in their own transaction (concurrent changes share it),
 * and the API answers only once that event is durable; device events (automatic registrations, refused connections) are
 * in-memory pushes committed with the next batch, so they add no disk flush to a CONNECT.
 */
import type { ConnectObserver, RegistrationObserver } from '../auth/connect-observer.js'
import type { CertificateRecord } from '../domain/certificate.js'
import { ACTOR_DEVICE, type NewEvent } from '../domain/event.js'
import { certificateRegistered } from './change-events.js'
import type { Logger } from '../log.js'
import type { EventLog } from '../store/ports.js'
import { RejectionAggregator, type RejectedConnect } from './rejection-aggregator.js'

/** Events of one change queued before they are flushed: well under any queue bound of the log. */
const CHANGE_SLICE = 1000

export interface AuditTrailDeps {
  log: EventLog
  now: () => Date
  /** Refusals of one device for one reason within this window make one event. */
  rejectionWindowMs: number
  logger: Logger
}

export class AuditTrail implements ConnectObserver, RegistrationObserver {
  private readonly rejections: RejectionAggregator

  constructor (private readonly deps: AuditTrailDeps) {
    this.rejections = new RejectionAggregator(deps.log, deps.rejectionWindowMs)
  }

  /**
   * Records an operator's change that has just been committed; resolves once the event is
   * durable. A failure is logged, not thrown: the change itself has happened and stays.
   */
  async recordChange (event: NewEvent): Promise<void> {
    await this.recordChanges([event])
  }

  /**
   * Several events of one change (a CA deleted with its certificates), committed in slices of
   * CHANGE_SLICE: appended all at once, the events of a CA with 100,000 certificates went over the
   * log's queue bound, and the last ones (the CA's own among them) were dropped unreported.
   */
  async recordChanges (events: readonly NewEvent[]): Promise<void> {
    let start = 0
    try {
      for (; start < events.length; start += CHANGE_SLICE) {
        for (const event of events.slice(start, start + CHANGE_SLICE)) this.deps.log.append(event)
        await this.deps.log.flush()
      }
    } catch (err) {
      // `type` as for a single event; a CA delete lists both of its types once
      const type = [...new Set(events.map((e) => e.type))].join(',')
      const count = events.length - start
      this.deps.logger.warn({ event: 'events.write_failed', type, count, err }, `could not write ${count} event(s)`)
    }
  }

  /** An automatic registration, by the device: queued, committed with the next batch. */
  autoRegistered (record: CertificateRecord): void {
    this.deps.log.append(certificateRegistered(record, ACTOR_DEVICE))
  }

  /** A refused CONNECT, aggregated per device and reason (rejection-aggregator.ts). */
  rejected (refused: RejectedConnect): void {
    this.rejections.record(refused, this.deps.now().getTime())
  }

  /** Accepted connections and rate-limit refusals make no event of their own (the refusal does). */
  accepted (): void {}
  rateLimited (): void {}
}
