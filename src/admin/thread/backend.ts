/**
 * What the admin API asks of the broker's thread. The routes reach the registry, the event log,
 * the metrics and the readiness checks only through these names; each listed method is also what
 * the admin thread may call across the thread boundary, and nothing else is (thread/rpc.ts).
 */
import type { CaService } from '../../registry/ca-service.js'
import type { CertificateService } from '../../registry/certificate-service.js'
import type { EventPage, EventQuery } from '../../domain/event.js'
import type { BackupService } from '../../registry/backup-service.js'

export const CA_METHODS = [
  'register', 'list', 'get', 'transition', 'update', 'registrationCode', 'rotateRegistrationCode', 'setHosts', 'importCrl', 'getCrl', 'delete'
] as const satisfies ReadonlyArray<keyof CaService>

export const CERTIFICATE_METHODS = ['register', 'get', 'list', 'transition', 'delete'] as const satisfies ReadonlyArray<keyof CertificateService>

export type CaBackend = Pick<CaService, typeof CA_METHODS[number]>
export type CertificateBackend = Pick<CertificateService, typeof CERTIFICATE_METHODS[number]>

export interface EventBackend {
  query (query: EventQuery): Promise<EventPage>
}
export const EVENT_METHODS = ['query'] as const satisfies ReadonlyArray<keyof EventBackend>

export const BACKUP_METHODS = ['create', 'discard'] as const satisfies ReadonlyArray<keyof BackupService>
export type BackupBackend = Pick<BackupService, typeof BACKUP_METHODS[number]>

/** The broker-side state behind /healthz, /readyz and /metrics. */
export interface StatusBackend {
  /** Whether the MQTTS listener is up. */
  mqtts (): Promise<boolean>
  /** Whether the registry store answers a read. */
  store (): Promise<boolean>
  /** The Prometheus text of the broker's metrics. */
  metrics (): Promise<string>
}
export const STATUS_METHODS = ['mqtts', 'store', 'metrics'] as const satisfies ReadonlyArray<keyof StatusBackend>

/** Every object the admin thread may call, by the name it uses, with the methods it may call. */
export const BACKEND_TARGETS = {
  cas: CA_METHODS,
  certificates: CERTIFICATE_METHODS,
  events: EVENT_METHODS,
  backups: BACKUP_METHODS,
  status: STATUS_METHODS
} as const

export type BackendTarget = keyof typeof BACKEND_TARGETS

export interface AdminBackend {
  cas: CaBackend
  certificates: CertificateBackend
  events: EventBackend
  backups: BackupBackend
  status: StatusBackend
}
