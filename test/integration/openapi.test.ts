/** The OpenAPI document is generated from the route schemas and served, with browsable docs, without a token. */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'

interface OpenApiDoc {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, { security?: unknown[]; parameters?: Array<{ name: string; in: string }>; responses: Record<string, unknown> }>>
  components: { securitySchemes: Record<string, unknown> }
}

describe('OpenAPI', () => {
  let certmq: TestCertmq
  beforeAll(async () => { certmq = await startCertmq() })
  afterAll(async () => { await certmq.stop() })

  it('serves a document of every /api/v1 route, with the bearer scheme on the protected ones', async () => {
    const response = await fetch(`${certmq.adminUrl}/api/v1/openapi.json`)
    expect(response.status).toBe(200)
    const doc = await response.json() as OpenApiDoc
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.info.title).toBe('certmq admin API')
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth')
    for (const path of ['/api/v1/cas', '/api/v1/cas/{id}', '/api/v1/certificates', '/api/v1/certificates/{id}', '/api/v1/certificates/{id}/revoke', '/api/v1/events']) {
      expect(doc.paths, path).toHaveProperty([path])
    }
    expect(doc.paths['/api/v1/certificates']!['post']!.security).toEqual([{ bearerAuth: [] }])
    expect(doc.paths['/healthz']!['get']!.security).toBeUndefined()
    // query parameters come from the route's querystring schema
    const names = doc.paths['/api/v1/certificates']!['get']!.parameters!.filter((p) => p.in === 'query').map((p) => p.name)
    expect(names).toEqual(expect.arrayContaining(['commonName', 'status', 'caId', 'limit', 'cursor']))
    // every operation declares the one error shape for 4xx and 5xx
    const revoke = doc.paths['/api/v1/certificates/{id}/revoke']!['post']!.responses
    expect(revoke).toHaveProperty(['4XX'])
    expect(JSON.stringify(revoke['4XX'])).toContain('requestId')
    expect(doc.paths['/api/v1/cas']!['post']!.responses).toHaveProperty(['5XX'])
    // the document describes itself nowhere: it is not part of the API
    expect(doc.paths).not.toHaveProperty(['/api/v1/openapi.json'])
  })

  it('serves browsable docs without a token', async () => {
    const response = await fetch(`${certmq.adminUrl}/api/v1/docs/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/text\/html/)
    expect(await response.text()).toContain('swagger')
  })

  it('answers a docs file that does not exist, a path out of the docs and a Range or If-Match it cannot meet with 4xx, never 405 or 500', async () => {
    const cases: Array<[string, Record<string, string>, number, string]> = [
      // the route takes GET: it found no file, so 404 (it was a 405 whose Allow header listed GET)
      ['/api/v1/docs/static/no-such-file.css', {}, 404, 'NOT_FOUND'],
      // @fastify/static refuses these with http-errors (403, 416, 412); they were 500 INTERNAL, logged as errors
      ['/api/v1/docs/static/../../../../etc/passwd', {}, 404, 'NOT_FOUND'],
      ['/api/v1/docs/static/%2e%2e/%2e%2e/package.json', {}, 404, 'NOT_FOUND'],
      ['/api/v1/docs/static/index.css', { range: 'bytes=99999999-' }, 400, 'VALIDATION_FAILED'],
      ['/api/v1/docs/static/index.css', { 'if-match': '"not-this-one"' }, 400, 'VALIDATION_FAILED']
    ]
    for (const [path, headers, status, code] of cases) {
      // node:http sends the path as written (fetch would resolve the dots first)
      const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
        const url = new URL(certmq.adminUrl)
        request({ host: url.hostname, port: url.port, path, headers }, (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
        }).on('error', reject).end()
      })
      expect(answer.status, `${path} ${JSON.stringify(headers)}: ${answer.body}`).toBe(status)
      expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe(code)
    }
    expect(certmq.logs.lines().filter((line) => line['event'] === 'request.failed')).toEqual([])
  })

  it('still refuses the API itself without a token', async () => {
    expect((await fetch(`${certmq.adminUrl}/api/v1/cas`)).status).toBe(401)
  })
})
