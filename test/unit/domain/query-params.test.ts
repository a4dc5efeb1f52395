import { describe, expect, it } from 'vitest'
import { CertmqError } from '../../../src/errors.js'
import { parseCertificateSearch, type SearchParams } from '../../../src/domain/query-params.js'
import { encodeCursor, queryHash } from '../../../src/domain/query-cursor.js'

function refusal (params: SearchParams): CertmqError {
  try {
    parseCertificateSearch(params)
  } catch (err) {
    expect(err).toBeInstanceOf(CertmqError)
    return err as CertmqError
  }
  return expect.fail(`expected ${JSON.stringify(params)} to be refused`)
}

describe('GET /api/v1/certificates parameters', () => {
  it('parses every filter, the sort and the page', () => {
    expect(parseCertificateSearch({
      commonName: 'SN00*', organizationalUnit: 'trucks', serialNumber: '0A', caId: 'ab', clientId: 'car-1', source: 'auto',
      status: ['active,inactive', 'revoked', 'active'],
      notBeforeFrom: '2026-01-01T00:00:00Z', notBeforeTo: '2026-01-02T01:00:00+01:00',
      notAfterFrom: '2026-03-01T00:00Z', notAfterTo: '2026-03-01T00:00:00.250Z',
      expired: 'false', expiringWithinDays: '30', sort: 'notAfter', order: 'desc', limit: 50
    })).toEqual({
      commonName: 'SN00*', organizationalUnit: 'trucks', serialNumber: '0A', caId: 'ab', clientId: 'car-1', source: 'auto',
      status: ['active', 'inactive', 'revoked'],
      notBeforeFrom: '2026-01-01T00:00:00.000Z', notBeforeTo: '2026-01-02T00:00:00.000Z',
      notAfterFrom: '2026-03-01T00:00:00.000Z', notAfterTo: '2026-03-01T00:00:00.250Z',
      expired: false, expiringWithinDays: 30, sort: 'notAfter', order: 'desc', limit: 50
    })
  })

  it('takes a serial with colons, any case and leading zeros, and a caId in upper case or with colons', () => {
    expect(parseCertificateSearch({ serialNumber: '00:0a:Ff', caId: 'AB:CD' })).toMatchObject({ serialNumber: '00:0a:Ff', caId: 'abcd' })
  })

  it('takes a cursor made for the same filters and sort, whatever the case of caId', () => {
    const query = parseCertificateSearch({ commonName: 'SN*', caId: 'ab', sort: 'commonName' })
    const cursor = encodeCursor(queryHash(query), { value: 'SN0007', id: 'ff' })
    expect(parseCertificateSearch({ commonName: 'SN*', caId: 'AB', sort: 'commonName', limit: '5', cursor })).toEqual({ ...query, limit: 5, cursor })
  })

  it('defaults to 100 a page in id order, and treats empty values as no filter', () => {
    expect(parseCertificateSearch({})).toEqual({ limit: 100 })
    expect(parseCertificateSearch({ commonName: '', status: ['', ','], expired: '' })).toEqual({ limit: 100 })
  })

  it.each([
    ['status', { status: 'active,bogus' }],
    ['source', { source: 'imported' }],
    ['notAfterFrom', { notAfterFrom: 'yesterday' }],
    ['notAfterTo', { notAfterTo: '2026-01-31' }],
    ['notBeforeFrom', { notBeforeFrom: '2026-02-30T00:00:00Z' }],
    ['notBeforeTo', { notBeforeTo: '2026-01-01T25:00:00Z' }],
    ['expired', { expired: 'yes' }],
    ['expiringWithinDays', { expiringWithinDays: '-1' }],
    ['expiringWithinDays', { expiringWithinDays: '1.5' }],
    ['expiringWithinDays', { expiringWithinDays: '36501' }],
    ['sort', { sort: 'serialNumber' }],
    ['order', { order: 'up' }],
    ['limit', { limit: '501' }],
    ['commonName', { commonName: ['a', 'b'] }],
    ['serialNumber', { serialNumber: 'xyz' }],
    ['serialNumber', { serialNumber: '0A-1B' }],
    ['cursor', { cursor: 'abc' }],
    ['cursor', { sort: 'createdAt', cursor: encodeCursor(queryHash({ limit: 100, sort: 'notAfter' }), { value: 0, id: 'ff' }) }]
  ])('refuses a bad %s with VALIDATION_FAILED naming it', (field, params) => {
    const err = refusal(params as SearchParams)
    expect(err.code).toBe('VALIDATION_FAILED')
    expect(err.details).toMatchObject({ location: 'querystring', field })
    expect(err.message).toMatch(new RegExp(`^querystring/${field}: `))
  })
})
