/**
 * GET /readyz, outside /api/v1 so probes need no token (PRODUCT §5 readiness). /healthz says the
 * process is alive (both listeners up); /readyz adds that the registry store answers, since
 * without it every CONNECT would be refused with store_unavailable. 200 when all hold, else 503.
 */
import type { FastifyInstance } from 'fastify'
import { ReadyBody } from '../schemas/ready.js'

export interface ReadyRouteOptions {
  ready: () => Promise<{ mqtts: boolean; admin: boolean; store: boolean }>
}

export async function readyRoutes (app: FastifyInstance, options: ReadyRouteOptions): Promise<void> {
  app.get('/readyz', {
    // probes poll this every few seconds; the request line is not worth an info entry each time
    logLevel: 'warn',
    schema: { response: { 200: ReadyBody, 503: ReadyBody } }
  }, async (_request, reply) => {
    const { mqtts, admin, store } = await options.ready()
    const up = mqtts && admin && store
    const body: ReadyBody = { status: up ? 'ready' : 'not_ready', mqtts, admin, store }
    return await reply.code(up ? 200 : 503).send(body)
  })
}
