/**
 * The admin HTTP API as a fastify instance. It never listens: server.ts does, tests use inject().
 * Routes: GET /healthz and /readyz (open), GET /metrics (open unless metrics.requireToken), everything else
 * under /api/v1 behind a bearer token; the token's role decides whether it may write.
 */
import { randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from '../log.js'
import type { BackupBackend, CaBackend, CertificateBackend } from './thread/backend.js'
import { bearerAuth } from './bearer-auth.js'
import { errorCodeOf, errorHandler, notFoundHandler } from './error-handler.js'
import { caRoutes } from './routes/cas.js'
import { certificateRoutes } from './routes/certificates.js'
import { healthRoutes, type HealthRouteOptions } from './routes/health.js'
import { openApiRoutes, registerOpenApi } from './openapi.js'
import { VERSION } from '../version.js'
import { metricsRoutes, type MetricsSource } from './routes/metrics.js'
import { readyRoutes, type ReadyRouteOptions } from './routes/ready.js'
import type { Principal } from './principal.js'
import { eventRoutes } from './routes/events.js'
import { backupRoutes } from './routes/backup.js'
import type { EventPage, EventQuery } from '../domain/event.js'

export interface AdminDeps {
  caService: CaBackend
  certificateService: CertificateBackend
  /** The event log behind GET /api/v1/events; the route is absent without it. */
  eventLog?: { query (query: EventQuery): Promise<EventPage> }
  /** POST /api/v1/backup; the route is absent without it. */
  backups?: BackupBackend
  auth: { authenticate (token: string): Principal | undefined }
  health: HealthRouteOptions['health']
  logger: Logger
  /** GET /metrics; absent means no such route. */
  metrics?: { source: MetricsSource; requireToken: boolean }
  /** GET /readyz; absent means no such route. */
  ready?: ReadyRouteOptions['ready']
}

export function buildAdminApp (deps: AdminDeps): FastifyInstance {
  const app = Fastify({
    // typed as fastify's logger interface so the instance is a plain FastifyInstance
    loggerInstance: deps.logger.child({ module: 'admin' }) as FastifyBaseLogger,
    // fastify's own request lines would be a second format; ours below picks its fields
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: () => randomUUID(),
    // `/api/v1/cas/` is the list, as clients that build URLs by joining segments send it; without
    // this it matched /cas/:id with an empty id (400). No route is registered with a trailing slash
    routerOptions: { ignoreTrailingSlash: true },
    // errors raised before routing (a malformed %-escape in the URL) get the same error body
    frameworkErrors: (error, request, reply) => { errorHandler(error, request, reply) }
  })

  // the API speaks JSON only; any other body type is refused with VALIDATION_FAILED
  app.removeContentTypeParser('text/plain')
  // Python's requests and urllib sessions send content-type: application/json on every call,
  // including the body-less ones (activate, DELETE): an empty JSON body is no body. A route that
  // needs one still says so ("body must be object"); malformed JSON is still refused
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body: string, done) => {
    if (body.length === 0) done(null, undefined)
    else parseJson(request, body, done)
  })
  app.setValidatorCompiler(validatorCompiler())
  app.setErrorHandler(errorHandler)
  const methods = routeMethods()
  app.addHook('onRoute', (route) => { methods.add(route.method, route.url) })
  app.setNotFoundHandler(notFoundHandler(methods.allowed))
  // set by bearer-auth.ts; null on routes without auth
  app.decorateRequest('principal', null)

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  // One line per request with fields picked here: never headers (authorization) or bodies (PEM).
  // A refused token is a security event: warn, so routes quiet at info (/metrics) still log it
  app.addHook('onResponse', async (request, reply) => {
    const level = reply.statusCode === 401 || reply.statusCode === 403 ? 'warn' : 'info'
    request.log[level]({
      event: 'request.completed',
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      code: errorCodeOf(request),
      // the token's name, never the token
      tokenName: request.principal?.name,
      durationMs: Math.round(reply.elapsedTime),
      remoteAddress: request.ip
    }, `${request.method} ${request.routeOptions.url ?? request.url} ${reply.statusCode}`)
  })

  const auth = { authenticate: (token: string) => deps.auth.authenticate(token) }
  // first: the document generator collects the routes registered after it
  registerOpenApi(app, VERSION)
  void app.register(healthRoutes, { health: deps.health })
  void app.register(openApiRoutes)
  if (deps.metrics !== undefined) void app.register(metricsRoutes, { ...deps.metrics, auth })
  if (deps.ready !== undefined) void app.register(readyRoutes, { ready: deps.ready })
  void app.register(async (api) => {
    await api.register(bearerAuth, auth)
    await api.register(caRoutes, { caService: deps.caService })
    await api.register(certificateRoutes, { certificateService: deps.certificateService })
    if (deps.eventLog !== undefined) await api.register(eventRoutes, { events: deps.eventLog })
    if (deps.backups !== undefined) await api.register(backupRoutes, { backups: deps.backups })
  }, { prefix: '/api/v1' })

  return app
}

/**
 * Which methods each registered path takes, for the 405 answer: fastify's own router only says a
 * request matched nothing. Filled by an onRoute hook as routes are registered; matched as fastify
 * matches them (the same router library, trailing slashes ignored).
 */
function routeMethods (): { add: (method: string | string[], url: string) => void, allowed: (path: string) => string[] } {
  const router = FindMyWay({ ignoreTrailingSlash: true })
  const known = new Set<string>()
  const noop = (): void => {}
  return {
    add: (method, url) => {
      for (const one of Array.isArray(method) ? method : [method]) {
        known.add(one)
        router.on(one as HTTPMethod, url, noop)
      }
    },
    allowed: (path) => [...known].filter((method) => {
      try {
        return router.find(method as HTTPMethod, path) !== null
      } catch {
        // a path the router cannot decode matches nothing: 404 as before
        return false
      }
    }).sort()
  }
}

/**
 * Bodies are validated as sent (no type coercion, unknown fields refused rather than silently
 * dropped); query strings and path parameters are text, so those coerce ("50" → 50).
 */
function validatorCompiler (): (route: { schema: object, httpPart?: string }) => ReturnType<Ajv['compile']> {
  const options = { useDefaults: true, removeAdditional: false, allErrors: false } as const
  const bodyAjv = new Ajv({ ...options, coerceTypes: false })
  const textAjv = new Ajv({ ...options, coerceTypes: 'array' })
  return ({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema)
}
