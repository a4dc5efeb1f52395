/**
 * GET /metrics in the Prometheus text format, outside /api/v1 like /healthz. Open by default:
 * the admin listener binds to localhost, and a scraper then needs no secret. With
 * metrics.requireToken the bearer check of the API applies (any role).
 */
import type { FastifyInstance } from 'fastify'
import { bearerAuth, type BearerAuthOptions } from '../bearer-auth.js'

/** What the route needs of a prom-client Registry. */
export interface MetricsSource {
  readonly contentType: string
  metrics (): Promise<string>
}

export interface MetricsRouteOptions {
  source: MetricsSource
  requireToken: boolean
  auth: BearerAuthOptions
}

export async function metricsRoutes (app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  // registered in this plugin's own context, so the hook covers /metrics and nothing else
  if (options.requireToken) await app.register(bearerAuth, options.auth)
  app.get('/metrics', {
    // scraped every few seconds; the request line is not worth an info entry each time
    logLevel: 'warn'
  }, async (_request, reply) => {
    const text = await options.source.metrics()
    return await reply.type(options.source.contentType).send(text)
  })
}
