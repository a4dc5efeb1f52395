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

/** A CA's SNI host binding replaced; `hosts` is the new binding, comma-separated ('' = unbound). */
export function caHostsChanged (record: CaRecord, previous: readonly string[], actor: string): NewEvent {
  return {
    type: 'ca.hosts_changed',
    actor,
    target: { kind: 'ca', id: record.id },
    details: { subject: record.subject, from: previous.join(','), to: (record.hosts ?? []).join(',') }
  }
}

/** A CRL accepted for a CA (now in force). */
export function caCrlImported (record: CaRecord, actor: string): NewEvent {
  return {
    type: 'ca.crl_imported',
    actor,
    target: { kind: 'ca', id: record.id },
    details: {
      subject: record.subject,
      revokedCount: record.crl?.revokedCount ?? 0,
      thisUpdate: record.crl?.thisUpdate ?? null,
      nextUpdate: record.crl?.nextUpdate ?? null
    }
  }
}

/** A CRL refused (stale, badly signed, unreadable): the CRL in force, if any, stays. */
export function caCrlRefused (record: CaRecord, code: string, message: string, actor: string): NewEvent {
  return {
    type: 'ca.crl_refused',
    actor,
    target: { kind: 'ca', id: record.id },
    reason: code,
    details: { subject: record.subject, message: message.slice(0, 300), crlInForce: record.crl?.importedAt != null }
  }
}
