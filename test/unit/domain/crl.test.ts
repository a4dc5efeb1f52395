import { describe, expect, it } from 'vitest'
import { checkCrlDates, CRL_CLOCK_SKEW_MS } from '../../../src/domain/crl.js'

const NOW = Date.parse('2026-06-01T12:00:00Z')
const at = (offsetMs: number): Date => new Date(NOW + offsetMs)
const DAY = 86_400_000

describe('§2 CRL dates (RFC 5280 §5.1.2.4–5)', () => {
  it('accepts a current CRL, with or without nextUpdate', () => {
    expect(checkCrlDates({ thisUpdate: at(-DAY), nextUpdate: at(DAY) }, NOW, undefined)).toBeUndefined()
    expect(checkCrlDates({ thisUpdate: at(-DAY), nextUpdate: undefined }, NOW, undefined)).toBeUndefined()
  })

  it('refuses thisUpdate in the future beyond the tolerated clock skew with CRL_INVALID', () => {
    expect(checkCrlDates({ thisUpdate: at(CRL_CLOCK_SKEW_MS), nextUpdate: at(DAY) }, NOW, undefined)).toBeUndefined()
    expect(checkCrlDates({ thisUpdate: at(CRL_CLOCK_SKEW_MS + 1), nextUpdate: at(DAY) }, NOW, undefined)?.code).toBe('CRL_INVALID')
  })

  it('refuses a CRL whose nextUpdate has passed with CRL_STALE', () => {
    expect(checkCrlDates({ thisUpdate: at(-2 * DAY), nextUpdate: at(-1) }, NOW, undefined)).toMatchObject({ code: 'CRL_STALE' })
    expect(checkCrlDates({ thisUpdate: at(-2 * DAY), nextUpdate: at(0) }, NOW, undefined)).toBeUndefined()
  })

  it('refuses a CRL older than the one in force with CRL_STALE; the same thisUpdate is accepted', () => {
    const current = { thisUpdate: at(-DAY).toISOString(), nextUpdate: null, revokedCount: 3, importedAt: at(-DAY).toISOString() }
    expect(checkCrlDates({ thisUpdate: at(-DAY - 1), nextUpdate: at(DAY) }, NOW, current)?.message).toContain('older than the CRL in force')
    expect(checkCrlDates({ thisUpdate: at(-DAY), nextUpdate: at(DAY) }, NOW, current)).toBeUndefined()
    // a CA with only a refused import has no CRL in force
    expect(checkCrlDates({ thisUpdate: at(-2 * DAY), nextUpdate: at(DAY) }, NOW, { ...current, thisUpdate: null })).toBeUndefined()
  })
})
