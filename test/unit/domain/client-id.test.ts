import { describe, expect, it } from 'vitest'
import { resolveClientId } from '../../../src/domain/client-id.js'

const base = { registeredClientId: 'car-42', commonName: 'SN000042', clean: true, strict: false }

describe('§1.4 client ID resolution', () => {
  it('uses the client ID in the CONNECT packet when it is not empty', () => {
    expect(resolveClientId({ ...base, packetClientId: 'from-packet' })).toEqual({ ok: true, clientId: 'from-packet', source: 'packet' })
  })
  it('falls back to the registered Client ID when the packet ID is empty', () => {
    expect(resolveClientId({ ...base, packetClientId: '' })).toEqual({ ok: true, clientId: 'car-42', source: 'registered' })
  })
  it('falls back to the subject CN when the packet ID and the registered Client ID are empty', () => {
    expect(resolveClientId({ ...base, packetClientId: '', registeredClientId: null }))
      .toEqual({ ok: true, clientId: 'SN000042', source: 'common_name' })
  })
  it('allows an empty ID with clean=false when the certificate supplies one', () => {
    expect(resolveClientId({ ...base, packetClientId: '', clean: false })).toMatchObject({ ok: true, clientId: 'car-42' })
  })
  it('leaves a clean session with nothing to name it by to a server-assigned ID', () => {
    expect(resolveClientId({ ...base, packetClientId: '', registeredClientId: null, commonName: '' }))
      .toEqual({ ok: true, clientId: '', source: 'assigned' })
  })
  it('rejects a persistent session with nothing to name it by (client_id_mismatch, CONNACK 2)', () => {
    expect(resolveClientId({ ...base, packetClientId: '', registeredClientId: null, commonName: '', clean: false }))
      .toEqual({ ok: false, reason: 'client_id_mismatch' })
  })
  it('refuses an ID longer than the protocol carries (MQTT 3.1: 23 characters), sent or resolved, with client_id_mismatch', () => {
    const mqtt31 = { ...base, maxLength: 23 }
    expect(resolveClientId({ ...mqtt31, packetClientId: 'x'.repeat(23) })).toMatchObject({ ok: true, clientId: 'x'.repeat(23) })
    expect(resolveClientId({ ...mqtt31, packetClientId: 'x'.repeat(24) })).toEqual({ ok: false, reason: 'client_id_mismatch' })
    expect(resolveClientId({ ...mqtt31, packetClientId: '', registeredClientId: 'car-with-a-rather-long-client-id' }))
      .toEqual({ ok: false, reason: 'client_id_mismatch' })
    expect(resolveClientId({ ...mqtt31, packetClientId: '', registeredClientId: null, commonName: '' })).toMatchObject({ ok: true, source: 'assigned' })
  })
  describe('strict mode', () => {
    const strict = { ...base, strict: true }
    it('accepts the registered Client ID', () => {
      expect(resolveClientId({ ...strict, packetClientId: 'car-42' })).toMatchObject({ ok: true, clientId: 'car-42' })
    })
    it('accepts the subject CN', () => {
      expect(resolveClientId({ ...strict, packetClientId: 'SN000042' })).toMatchObject({ ok: true, clientId: 'SN000042' })
    })
    it('rejects any other non-empty ID with client_id_mismatch', () => {
      expect(resolveClientId({ ...strict, packetClientId: 'someone-else' })).toEqual({ ok: false, reason: 'client_id_mismatch' })
    })
    it('still resolves an empty ID from the certificate', () => {
      expect(resolveClientId({ ...strict, packetClientId: '' })).toMatchObject({ ok: true, clientId: 'car-42' })
    })
  })
})
