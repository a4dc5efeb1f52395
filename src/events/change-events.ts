/**
 * The events that record a registry change: which fields an operator sees for each. Pure; small
 * facts only, never a PEM. Every certificate event names the serial, CN and CA; every CA event
 * the serial and subject; a status change its `from` (when known) and `to`.
 */
import type { CaRecord } from '../domain/ca.js'
import type { CertificateRecord } from '../domain/certificate.js'
import type { EventDetails, EventType, NewEvent } from '../domain/event.js'

function certificateEvent (type: EventType, record: CertificateRecord, actor: string, details: EventDetails): NewEvent {
  return {
    type,
    actor,
    target: { kind: 'certificate', id: record.id },
    details: { serial: record.serialNumber, commonName: record.commonName, caId: record.caId, ...details }
  }
}

function caEvent (type: EventType, record: CaRecord, actor: string, details: EventDetails, reason?: string): NewEvent {
  return {
    type,
    actor,
    target: { kind: 'ca', id: record.id },
    ...(reason === undefined ? {} : { reason }),
    details: { serial: record.serialNumber, subject: record.subject, ...details }
  }
}

function statusChange (type: EventType, from: string | undefined, status: string): EventDetails {
  return { ...(from === undefined ? {} : { from }), to: type.endsWith('.deleted') ? 'deleted' : status }
}

export function certificateRegistered (record: CertificateRecord, actor: string): NewEvent {
  return certificateEvent('certificate.registered', record, actor, { clientId: record.clientId, status: record.status, source: record.source })
}

/** activate / deactivate / revoke / delete; `from` is the status before the change when known. */
export function certificateChanged (type: Exclude<Extract<EventType, `certificate.${string}`>, 'certificate.registered'>,
  record: CertificateRecord, from: string | undefined, actor: string): NewEvent {
  return certificateEvent(type, record, actor, statusChange(type, from, record.status))
}

export function caRegistered (record: CaRecord, actor: string): NewEvent {
  return caEvent('ca.registered', record, actor, {
    registrationMode: record.registrationMode, autoActivate: record.autoActivate, builtin: record.builtin
  })
}

/** activate / deactivate; `from` is the status before the change when known. */
export function caChanged (type: 'ca.activated' | 'ca.deactivated', record: CaRecord, from: string | undefined, actor: string): NewEvent {
  return caEvent(type, record, actor, statusChange(type, from, record.status))
}

/**
 * A CA deleted, with how many of its (non-active) certificates went with it: each of those has
 * its own certificate.deleted event, this count says how many to look for.
 */
export function caDeleted (record: CaRecord, certificatesDeleted: number, actor: string): NewEvent {
  return caEvent('ca.deleted', record, actor, { ...statusChange('ca.deleted', record.status, record.status), certificatesDeleted })
}

/** A CA's settings changed: `from` and `to` hold only the settings that changed. */
export function caUpdated (record: CaRecord, from: EventDetails, to: EventDetails, actor: string): NewEvent {
  return caEvent('ca.updated', record, actor, { from: JSON.stringify(from), to: JSON.stringify(to) })
}

/** A CA's SNI host binding replaced: `from` and `to` as comma-separated host lists ('' = unbound). */
export function caHostsChanged (record: CaRecord, previous: readonly string[], actor: string): NewEvent {
  return caEvent('ca.hosts_changed', record, actor, { from: previous.join(','), to: record.hosts.join(',') })
}

/** A CRL accepted for a CA (now in force). */
export function caCrlImported (record: CaRecord, actor: string): NewEvent {
  return caEvent('ca.crl_imported', record, actor, {
    revokedCount: record.crl?.revokedCount ?? 0, thisUpdate: record.crl?.thisUpdate ?? null, nextUpdate: record.crl?.nextUpdate ?? null
  })
}

/** A CRL refused (stale, badly signed, unreadable): the CRL in force, if any, stays. */
export function caCrlRefused (record: CaRecord, code: string, message: string, actor: string): NewEvent {
  return caEvent('ca.crl_refused', record, actor, { message: message.slice(0, 300), crlInForce: record.crl?.importedAt != null }, code)
}

/** The registration code (proof of possession) replaced; the code itself is never recorded. */
export function registrationCodeRotated (actor: string): NewEvent {
  return { type: 'ca.registration_code_rotated', actor, target: null, details: {} }
}

/** A backup of the registry handed to an operator: its size and SHA-256, to match it with the file kept. */
export function backupCreated (actor: string, bytes: number, sha256: string): NewEvent {
  return { type: 'backup.created', actor, target: null, details: { bytes, sha256 } }
}
