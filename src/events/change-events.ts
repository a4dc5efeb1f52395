/**
 * The events that record a registry change: which fields an operator sees for each. Pure; small
 * facts only, never a PEM.
 */
import type { CaRecord } from '../domain/ca.js'
import type { CertificateRecord } from '../domain/certificate.js'
import type { EventType, NewEvent } from '../domain/event.js'

export function certificateRegistered (record: CertificateRecord, actor: string): NewEvent {
  return {
    type: 'certificate.registered',
    actor,
    target: { kind: 'certificate', id: record.id },
    details: {
      serial: record.serialNumber,
      commonName: record.commonName,
      caId: record.caId,
      clientId: record.clientId,
      status: record.status,
      source: record.source
    }
  }
}

/** activate / deactivate / revoke / delete; `from` is the status before the change when known. */
export function certificateChanged (type: Extract<EventType, `certificate.${string}`>, record: CertificateRecord,
  from: string | undefined, actor: string): NewEvent {
  return {
    type,
    actor,
    target: { kind: 'certificate', id: record.id },
    details: {
      serial: record.serialNumber,
      commonName: record.commonName,
      caId: record.caId,
      ...(from === undefined ? {} : { from }),
      to: type === 'certificate.deleted' ? 'deleted' : record.status
    }
  }
}

export function caRegistered (record: CaRecord, actor: string): NewEvent {
  return {
    type: 'ca.registered',
    actor,
    target: { kind: 'ca', id: record.id },
    details: {
      serial: record.serialNumber,
      subject: record.subject,
      registrationMode: record.registrationMode,
      autoActivate: record.autoActivate,
      builtin: record.builtin
    }
  }
}

/** activate / deactivate / delete; `from` is the status before the change when known. */
export function caChanged (type: Extract<EventType, `ca.${string}`>, record: CaRecord, from: string | undefined, actor: string): NewEvent {
  return {
    type,
    actor,
    target: { kind: 'ca', id: record.id },
    details: {
      serial: record.serialNumber,
      subject: record.subject,
      ...(from === undefined ? {} : { from }),
      to: type === 'ca.deleted' ? 'deleted' : record.status
    }
  }
}
