/**
 * Typed client of the admin API (the contract in src/admin/schemas), over global fetch. The CLI's
 * only way to the registry: operator commands never touch the store.
 */
import { CertmqError, isCertmqError } from '../errors.js'
import { isBearerToken, TOKEN_CHARACTERS } from '../domain/bearer-token.js'
import type { CaBody, CaHostsBody, CaListBody, CrlBody, RegisterCaBody, RegistrationCodeBody, UpdateCaBody } from '../admin/schemas/ca.js'
import type {
  CertificateBody, CertificateDetailsBody, CertificateListBody, CertificateListQuery, RegisterCertificateBody
} from '../admin/schemas/certificate.js'
import type { EventListBody } from '../admin/schemas/event.js'
import { BACKUP_SHA256_HEADER } from '../admin/routes/backup.js'

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8080'

/** Long enough for a busy server, short enough that a black-holed address does not hang a script. */
const DEFAULT_TIMEOUT_MS = 30_000

/**
 * An error answer of the admin API: its code, message and details verbatim, its HTTP status, and
 * the body unchanged (for --json).
 */
export class AdminApiError extends Error {
  override name = 'AdminApiError'

  constructor (
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
    readonly status: number,
    readonly body: unknown
  ) {
    super(message)
  }
}

export interface AdminApiClientOptions {
  /** Base URL of the admin API, e.g. http://127.0.0.1:8080; a trailing /api/v1 is accepted and dropped. */
  url: string
  token?: string | undefined
  timeoutMs?: number
}

/** Search parameters as the API names them; a list is sent as the parameter repeated. */
export type CertificateSearch = { [K in keyof CertificateListQuery]?: string | number | readonly string[] }

/** `--all` stops after this many pages (500 000 certificates at 500 a page) rather than loop forever on a bad server. */
const MAX_FOLLOWED_PAGES = 1000

/** POST /api/v1/backup's answer: the file's bytes as they arrive, and what to check them against. */
export interface BackupDownload {
  chunks: AsyncIterable<Uint8Array>
  /** From the server's header: lowercase hex, '' when it sent none. */
  sha256: string
  fileName: string
}

/** A request sent and the start of its answer; `timer` aborts it `timeoutMs` after it was sent. */
interface Sent {
  response: Response
  timer: NodeJS.Timeout
  timeoutMs: number
}

/** GET /api/v1/events filters; `type` may list several. */
export interface EventSearch {
  type?: readonly string[]
  actor?: string
  targetId?: string
  reason?: string
  from?: string
  to?: string
  limit?: number
  cursor?: string
}

export class AdminApiClient {
  private readonly base: string

  /** Throws VALIDATION_FAILED when `url` is not an http(s) URL. */
  constructor (private readonly options: AdminApiClientOptions) {
    let parsed: URL
    try {
      parsed = new URL(options.url)
    } catch {
      throw new CertmqError('VALIDATION_FAILED', `admin URL "${options.url}" is not a URL (expected e.g. ${DEFAULT_ADMIN_URL})`, { url: options.url })
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CertmqError('VALIDATION_FAILED', `admin URL "${options.url}" must start with http:// or https://`, { url: options.url })
    }
    // fetch refuses such a URL, which read as ADMIN_UNREACHABLE; the message names neither part
    if (parsed.username !== '' || parsed.password !== '') {
      throw new CertmqError('VALIDATION_FAILED', 'the admin URL holds a user name or password: give the URL without them, and the token with --token or CERTMQ_ADMIN_TOKEN',
        { url: `${parsed.protocol}//${parsed.host}${parsed.pathname}` })
    }
    this.base = adminBaseUrl(options.url)
  }

  get url (): string {
    return this.base
  }

  async registerCa (body: RegisterCaBody): Promise<CaBody> {
    return await this.call('POST', '/cas', body)
  }

  async listCas (): Promise<CaListBody> {
    return await this.call('GET', '/cas')
  }

  async getCa (id: string): Promise<CaBody> {
    return await this.call('GET', `/cas/${seg(id)}`)
  }

  async transitionCa (id: string, action: 'activate' | 'deactivate'): Promise<CaBody> {
    return await this.call('POST', `/cas/${seg(id)}/${action}`)
  }

  async updateCa (id: string, body: UpdateCaBody): Promise<CaBody> {
    return await this.call('PATCH', `/cas/${seg(id)}`, body)
  }

  async deleteCa (id: string): Promise<CaBody> {
    return await this.call('DELETE', `/cas/${seg(id)}`)
  }

  async getRegistrationCode (rotate = false): Promise<RegistrationCodeBody> {
    return rotate
      ? await this.call('POST', '/cas/registration-code/rotate')
      : await this.call('GET', '/cas/registration-code')
  }

  async getCaHosts (id: string): Promise<CaHostsBody> {
    return await this.call('GET', `/cas/${seg(id)}/hosts`)
  }

  async setCaHosts (id: string, hosts: string[]): Promise<CaHostsBody> {
    return await this.call('PUT', `/cas/${seg(id)}/hosts`, { hosts })
  }

  async importCrl (id: string, crlPem: string): Promise<CrlBody> {
    return await this.call('POST', `/cas/${seg(id)}/crl`, { crlPem })
  }

  async getCrl (id: string, includePem: boolean): Promise<CrlBody> {
    return await this.call('GET', `/cas/${seg(id)}/crl${includePem ? '?includePem=true' : ''}`)
  }

  async registerCertificate (body: RegisterCertificateBody): Promise<CertificateBody> {
    return await this.call('POST', '/certificates', body)
  }

  async listCertificates (search: CertificateSearch = {}): Promise<CertificateListBody> {
    return await this.call('GET', withQuery('/certificates', search))
  }

  /**
   * Every page of a search, following nextCursor from `search.cursor` (or the start): one body
   * with all the items, the total of the last page and nextCursor null.
   */
  async listAllCertificates (search: CertificateSearch = {}): Promise<CertificateListBody> {
    const items: CertificateListBody['items'] = []
    let page = await this.listCertificates(search)
    for (let pages = 1; ; pages++) {
      items.push(...page.items)
      if (page.nextCursor === null || pages >= MAX_FOLLOWED_PAGES) break
      page = await this.listCertificates({ ...search, cursor: page.nextCursor })
    }
    return { items, nextCursor: page.nextCursor, total: page.total }
  }

  async getCertificate (id: string): Promise<CertificateDetailsBody> {
    return await this.call('GET', `/certificates/${seg(id)}`)
  }

  async transitionCertificate (id: string, action: 'activate' | 'deactivate'): Promise<CertificateBody> {
    return await this.call('POST', `/certificates/${seg(id)}/${action}`)
  }

  /** Irreversible: the caller has asked the operator for confirmation. */
  async revokeCertificate (id: string): Promise<CertificateBody> {
    return await this.call('POST', `/certificates/${seg(id)}/revoke`, { confirm: true })
  }

  async deleteCertificate (id: string): Promise<CertificateBody> {
    return await this.call('DELETE', `/certificates/${seg(id)}`)
  }

  async listEvents (search: EventSearch = {}): Promise<EventListBody> {
    return await this.call('GET', withQuery('/events', search))
  }

  /**
   * POST /backup: the backup file as a stream of bytes, with the SHA-256 the server computed. The
   * timeout applies to the answer's start and then to each pause in the body, not to the whole
   * download (a large store takes longer than any fixed bound).
   */
  async downloadBackup (): Promise<BackupDownload> {
    const sent = await this.fetch('POST', '/backup', undefined, 'application/octet-stream, application/json')
    const { response, timeoutMs } = sent
    // an error answer is JSON, read as any call's
    if (!response.ok || response.body === null) return await this.answer<never>(sent, 'POST', '/backup')
    clearTimeout(sent.timer)
    const sha256 = response.headers.get(BACKUP_SHA256_HEADER) ?? ''
    const disposition = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')
    const base = this.base
    // the connection lost mid-body (the broker stopped, a proxy cut it): fetch's bare TypeError
    // 'terminated' read as a bug in the CLI (INTERNAL, exit 1)
    const cutOff = (err: unknown): CertmqError => isCertmqError(err)
      ? err
      : new CertmqError('ADMIN_UNREACHABLE', `the backup download from ${base} was cut off: ${networkReason(err)}`,
        { url: base, reason: networkReason(err) }, { cause: err })
    async function * chunks (body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
      const reader = body.getReader()
      try {
        for (;;) {
          let idle: NodeJS.Timeout | undefined
          const stalled = new Promise<never>((_resolve, reject) => {
            idle = setTimeout(() => {
              reject(new CertmqError('ADMIN_UNREACHABLE', `the backup download from ${base} stalled: no data for ${timeoutMs / 1000} s`, { url: base }))
            }, timeoutMs)
          })
          try {
            const { done, value } = await Promise.race([reader.read(), stalled]).catch((err: unknown) => { throw cutOff(err) })
            if (done) return
            yield value
          } finally {
            clearTimeout(idle)
          }
        }
      } finally {
        await reader.cancel().catch(() => {})
      }
    }
    return { chunks: chunks(response.body), sha256, fileName: disposition?.[1] ?? 'certmq-backup.mdb' }
  }

  /**
   * One API call. Throws AdminApiError for an error answer, CertmqError ADMIN_UNREACHABLE when
   * nothing (or something that is not certmq) answers at the URL.
   */
  private async call<T> (method: string, path: string, body?: unknown): Promise<T> {
    return await this.answer<T>(await this.fetch(method, path, body, 'application/json'), method, path)
  }

  /** Reads a sent request's answer, within the request's timeout, and makes it the body or the error it stands for. */
  private async answer<T> ({ response, timer, timeoutMs }: Sent, method: string, path: string): Promise<T> {
    let text: string
    try {
      text = await response.text()
    } catch (err) {
      throw this.unreachable(err, timeoutMs)
    } finally {
      clearTimeout(timer)
    }
    return this.answerOf<T>(response, text, method, path)
  }

  /**
   * Sends a request and waits for the answer's start. The returned timer, `timeoutMs` from the
   * start, aborts the request (its body too); the caller clears it once it has what it waits for.
   */
  private async fetch (method: string, path: string, body: unknown, accept: string): Promise<Sent> {
    const url = `${this.base}/api/v1${path}`
    const headers: Record<string, string> = { accept }
    // a token read from a file (a Kubernetes secret) often ends in a newline: fetch trimmed it
    const token = this.options.token?.trim()
    if (token !== undefined && token !== '') {
      // fetch would refuse the header and echo the token in its message
      if (!isBearerToken(token)) {
        throw new CertmqError('VALIDATION_FAILED', `the admin token (--token or CERTMQ_ADMIN_TOKEN) holds characters a bearer token cannot have (${TOKEN_CHARACTERS}), such as a line break or a space`)
      }
      headers['authorization'] = `Bearer ${token}`
    }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    // a timer that keeps the process alive, unlike AbortSignal.timeout's: Node 20's fetch can stay
    // pending for good when the server closes the connection at once (a port forward with nothing
    // behind it), and with nothing else pending node then exits 13 without a word
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort(new DOMException('no answer', 'TimeoutError')) }, timeoutMs)
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal
      })
      return { response, timer, timeoutMs }
    } catch (err) {
      clearTimeout(timer)
      throw this.unreachable(err, timeoutMs)
    }
  }

  private unreachable (err: unknown, timeoutMs: number): CertmqError {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : networkReason(err)
    return new CertmqError('ADMIN_UNREACHABLE', `cannot reach the admin API at ${this.base}: ${reason}`,
      { url: this.base, reason }, { cause: err })
  }

  /** The parsed body of a good answer; else the AdminApiError (or ADMIN_UNREACHABLE) it stands for. */
  private answerOf<T> (response: Response, text: string, method: string, path: string): T {
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (response.ok && parsed !== undefined) return parsed as T
    const error = errorOf(parsed)
    if (error !== undefined) {
      const hint = response.status === 401 && (this.options.token ?? '') === '' ? ' (set --token or CERTMQ_ADMIN_TOKEN)' : ''
      throw new AdminApiError(error.code, `${error.message}${hint}`, error.details, response.status, parsed)
    }
    throw new CertmqError('ADMIN_UNREACHABLE',
      `the server at ${this.base} answered ${method} ${path} with HTTP ${response.status} and no certmq JSON: is this the certmq admin API?`,
      { url: this.base, status: response.status })
  }
}

/**
 * The URL without trailing slashes or a trailing /api/v1: the start-up banner and docs/api.md give
 * operators http://…:8080/api/v1, and call() adds /api/v1 itself, so either spelling works.
 */
function adminBaseUrl (url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api\/v1$/, '')
}

function seg (id: string): string {
  return encodeURIComponent(id)
}

/** `{ error: { code, message, details } }`, or undefined for any other shape. */
function errorOf (body: unknown): { code: string, message: string, details: Record<string, unknown> } | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const error = (body as { error?: unknown }).error
  if (typeof error !== 'object' || error === null) return undefined
  const { code, message, details } = error as Record<string, unknown>
  if (typeof code !== 'string' || typeof message !== 'string') return undefined
  return { code, message, details: typeof details === 'object' && details !== null ? details as Record<string, unknown> : {} }
}

/** fetch() reports "fetch failed" and hides the reason (ECONNREFUSED, ENOTFOUND, bad port…) in `cause`. */
function networkReason (err: unknown): string {
  let current: unknown = err
  let innermost = err instanceof Error ? err.message : String(err)
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code
    if (code === 'ECONNREFUSED') return 'connection refused'
    if (typeof code === 'string') return `${code} (${current.message})`
    innermost = current.message
    current = current.cause
  }
  return innermost
}

/** `path?a=1&b=x&b=y`: undefined values left out, a list as a repeated parameter. */
function withQuery (path: string, search: object): string {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(search) as Array<[string, unknown]>) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item))
  }
  const text = query.toString()
  return text === '' ? path : `${path}?${text}`
}
