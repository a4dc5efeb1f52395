import { describe, expect, it } from 'vitest'
import { CERT_DELETABLE_FROM, CERT_TRANSITIONS, CA_TRANSITIONS, autoInitialStatus, manualInitialStatus } from '../../../src/domain/lifecycle.js'

describe('§3 certificate status transitions', () => {
  it('activates only from inactive or pending_activation', () => {
    expect(CERT_TRANSITIONS.activate).toEqual({ allowedFrom: ['inactive', 'pending_activation'], to: 'active' })
  })
  it('deactivates only from active', () => {
    expect(CERT_TRANSITIONS.deactivate).toEqual({ allowedFrom: ['active'], to: 'inactive' })
  })
  it('revokes from any status but revoked', () => {
    expect(CERT_TRANSITIONS.revoke.allowedFrom).not.toContain('revoked')
    expect(CERT_TRANSITIONS.revoke.allowedFrom).toHaveLength(3)
  })
  it('deletes from any status but active', () => {
    expect(CERT_DELETABLE_FROM).not.toContain('active')
    expect(CERT_DELETABLE_FROM).toHaveLength(3)
  })
  it('starts a manual registration active unless asked otherwise', () => {
    expect(manualInitialStatus(true)).toBe('active')
    expect(manualInitialStatus(false)).toBe('inactive')
  })
  it('starts an automatic registration as the CA says', () => {
    expect(autoInitialStatus(true)).toBe('active')
    expect(autoInitialStatus(false)).toBe('pending_activation')
  })
  it('toggles a CA between active and inactive', () => {
    expect(CA_TRANSITIONS.activate).toEqual({ allowedFrom: ['inactive'], to: 'active' })
    expect(CA_TRANSITIONS.deactivate).toEqual({ allowedFrom: ['active'], to: 'inactive' })
  })
})
