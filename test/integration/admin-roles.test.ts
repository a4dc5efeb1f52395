/**
 * Admin tokens with roles (issue 4, item 6) on a whole broker whose config file names tokens:
 * `admin` may do everything, `viewer` only reads (403 FORBIDDEN on writes); several named tokens
 * work side by side with the built-in one; a token held in an environment variable (tokenEnv)
 * works and never reaches a log line. This server also sets metrics.requireToken.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenSslPki } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'

const VIEWER_TOKEN = 'viewer-token-from-env-0123456789'
const OPS_TOKEN = 'ops-token-by-hash-0123456789abcdef'
const DEPLOY_TOKEN = 'deploy-token-from-env-0123456789'

interface ErrorBody { error: { code: string; message: string; details: Record<string, unknown> } }

let pki: OpenSslPki
let certmq: TestCertmq
let dataDir: string

async function call<T = unknown> (method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${certmq.adminUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  return { status: res.status, body: (type.startsWith('application/json') && text !== '' ? JSON.parse(text) : text) as T }
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  dataDir = await mkdtemp(join(tmpdir(), 'certmq-roles-'))
  await writeFile(join(dataDir, 'broker.config.json'), JSON.stringify({
    admin: {
      tokens: [
        { name: 'ci', role: 'viewer', tokenEnv: 'TEST_CI_TOKEN' },
        { name: 'ops', role: 'admin', tokenSha256: createHash('sha256').update(OPS_TOKEN).digest('hex') },
        { name: 'deploy', role: 'admin', tokenEnv: 'TEST_DEPLOY_TOKEN' }
      ]
    }
  }))
  certmq = await startCertmq({
    TEST_CI_TOKEN: VIEWER_TOKEN,
    TEST_DEPLOY_TOKEN: DEPLOY_TOKEN,
    CERTMQ_METRICS_REQUIRE_TOKEN: 'true'
  }, { dataDir })
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

describe('admin token roles', () => {
  it('lets a viewer token read', async () => {
    expect((await call('GET', '/api/v1/cas', VIEWER_TOKEN)).status).toBe(200)
    expect((await call('GET', '/api/v1/certificates', VIEWER_TOKEN)).status).toBe(200)
  })

  it('answers a viewer token that writes with 403 FORBIDDEN naming the token and its role, and changes nothing', async () => {
    const ca = await pki.ca('viewer-try')
    const before = await call<unknown[]>('GET', '/api/v1/cas', VIEWER_TOKEN)
    const attempts = [
      await call<ErrorBody>('POST', '/api/v1/cas', VIEWER_TOKEN, { certificatePem: ca.pem, registrationMode: 'manual' }),
      await call<ErrorBody>('DELETE', `/api/v1/certificates/${'a'.repeat(64)}`, VIEWER_TOKEN),
      await call<ErrorBody>('POST', `/api/v1/certificates/${'a'.repeat(64)}/revoke`, VIEWER_TOKEN, { confirm: true }),
      // a backup holds every record, the token hashes among them
      await call<ErrorBody>('POST', '/api/v1/backup', VIEWER_TOKEN)
    ]
    for (const res of attempts) {
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('FORBIDDEN')
      expect(res.body.error.message).toContain('"ci" has role viewer')
      expect(res.body.error.details).toMatchObject({ tokenName: 'ci', role: 'viewer' })
    }
    expect((await call('GET', '/api/v1/cas', VIEWER_TOKEN)).body).toEqual(before.body)
    expect((await call<{ items: unknown[] }>('GET', '/api/v1/events?type=backup.created', VIEWER_TOKEN)).body.items).toEqual([])
  })

  it('answers a wrong or missing token with 401 UNAUTHORIZED', async () => {
    const wrong = await call<ErrorBody>('GET', '/api/v1/cas', `${OPS_TOKEN}x`)
    expect(wrong.status).toBe(401)
    expect(wrong.body.error.code).toBe('UNAUTHORIZED')
    expect((await call('GET', '/api/v1/cas', undefined)).status).toBe(401)
  })

  it('accepts writes from each named admin token and from the built-in admin token', async () => {
    for (const [name, token] of [['ops', OPS_TOKEN], ['deploy', DEPLOY_TOKEN], ['admin', certmq.token]] as const) {
      const ca = await pki.ca(`by-${name}`)
      const res = await call('POST', '/api/v1/cas', token, { certificatePem: ca.pem, registrationMode: 'manual', description: `by ${name}` })
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(201)
      // the event names the token that made the change
      const caId = (res.body as { id: string }).id
      const events = await call<{ items: Array<{ type: string, actor: string }> }>('GET', `/api/v1/events?targetId=${caId}`, VIEWER_TOKEN)
      expect(events.body.items.map((e) => [e.type, e.actor])).toEqual([['ca.registered', name]])
    }
  })

  it('logs the token name in request.completed and never a token', async () => {
    const lines = certmq.logs.events('request.completed')
    const names = new Set(lines.map((l) => l['tokenName']))
    for (const name of ['ci', 'ops', 'deploy', 'admin']) expect(names).toContain(name)
    expect(lines.find((l) => l['statusCode'] === 403)?.['tokenName']).toBe('ci')
    const all = certmq.logs.raw.join('\n')
    for (const token of [VIEWER_TOKEN, OPS_TOKEN, DEPLOY_TOKEN, certmq.token]) expect(all).not.toContain(token)
  })
})

describe('GET /metrics with metrics.requireToken', () => {
  it('refuses a scrape without a token and serves one with any valid token, viewer included', async () => {
    const anonymous = await call<ErrorBody>('GET', '/metrics', undefined)
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.error.code).toBe('UNAUTHORIZED')
    expect((await call('GET', '/metrics', 'not-a-valid-token-at-all')).status).toBe(401)
    const viewer = await call<string>('GET', '/metrics', VIEWER_TOKEN)
    expect(viewer.status).toBe(200)
    expect(viewer.body).toContain('# HELP certmq_connections_accepted_total')
    // /healthz stays open
    expect((await call('GET', '/healthz', undefined)).status).toBe(200)
    // scrapes are quiet at info, a refused one is not: a scraper with a wrong token shows in the log
    const refused = certmq.logs.events('request.completed').filter((l) => l['url'] === '/metrics' && l['statusCode'] === 401)
    expect(refused).toHaveLength(2)
    expect(refused.map((l) => l['level'])).toEqual([40, 40])
    expect(certmq.logs.events('request.completed').filter((l) => l['url'] === '/metrics' && l['statusCode'] === 200)).toEqual([])
  })
})
