import { describe, expect, it } from 'vitest'
import { AdminApiClient } from '../../../src/cli/api-client.js'
import { CertmqError } from '../../../src/errors.js'

describe('AdminApiClient URL', () => {
  it('takes the base URL or the API URL the start-up banner prints (…/api/v1), with or without a trailing slash', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080/api/v1', 'http://127.0.0.1:8080/api/v1/',
      'http://127.0.0.1:8080/api/v1//']) {
      expect(new AdminApiClient({ url }).url, url).toBe('http://127.0.0.1:8080')
    }
  })

  it('keeps a path prefix in front of /api/v1 (an admin API behind a reverse proxy)', () => {
    expect(new AdminApiClient({ url: 'https://ops.example/certmq/api/v1' }).url).toBe('https://ops.example/certmq')
    expect(new AdminApiClient({ url: 'https://ops.example/certmq/' }).url).toBe('https://ops.example/certmq')
  })

  it('drops only a whole trailing /api/v1 segment', () => {
    expect(new AdminApiClient({ url: 'http://h:8080/api/v10' }).url).toBe('http://h:8080/api/v10')
    expect(new AdminApiClient({ url: 'http://h:8080/x/api/v1/y' }).url).toBe('http://h:8080/x/api/v1/y')
  })

  it('refuses a URL that is not http(s) (VALIDATION_FAILED)', () => {
    for (const url of ['ftp://h/api/v1', 'localhost:8080/api/v1', '/api/v1']) {
      const thrown = (() => { try { return new AdminApiClient({ url }) } catch (err) { return err } })()
      expect(thrown, url).toBeInstanceOf(CertmqError)
      expect((thrown as CertmqError).code, url).toBe('VALIDATION_FAILED')
    }
  })
})
