/** GET /healthz, outside /api/v1 so probes need no token: 200 when both listeners are up, else 503. */
import type { FastifyInstance } from 'fastify'
import { HealthBody } from '../schemas/health.js'

export interface HealthRouteOptions {
  health: () => { mqtts: boolean; admin: boolean } | Promise<{ mqtts: boolean; admin: boolean }>
}

export async function healthRoutes (app: FastifyInstance, options: HealthRouteOptions): Promise<void> {
  app.get('/healthz', {
    // probes poll this every few seconds; the request line is not worth an info entry each time
    logLevel: 'warn',
    schema: { response: { 200: HealthBody, 503: HealthBody } }
  }, async (_request, reply) => {
    const { mqtts, admin } = await options.health()
    const up = mqtts && admin
    const body: HealthBody = { status: up ? 'ok' : 'unavailable', mqtts, admin }
    return await reply.code(up ? 200 : 503).send(body)
  })
}
