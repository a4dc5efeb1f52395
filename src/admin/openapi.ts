/**
 * The OpenAPI document of the admin API, generated from the route schemas (@fastify/swagger), and
 * browsable docs (@fastify/swagger-ui). Both are served without a token: they describe the API and
 * hold no data. `registerOpenApi` must run before any route is added, since the generator collects
 * routes as they are registered; `openApiRoutes` adds the two endpoints under /api/v1.
 */
import type { FastifyInstance } from 'fastify'
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ErrorBody } from './schemas/common.js'

export const OPENAPI_PATH = '/api/v1/openapi.json'
export const DOCS_PATH = '/api/v1/docs'

/** Registers the generator on `app` itself (not in a child context), so it sees every route. */
export function registerOpenApi (app: FastifyInstance, version: string): void {
  void app.register(swagger, openApiOptions(version))
}

function openApiOptions (version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'certmq admin API',
        version,
        description: 'Manage the CAs and device certificates of a certmq broker. Authentication, errors and paging: docs/api.md.'
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin token (docs/operations.md)' }
        }
      },
      tags: [
        { name: 'cas', description: 'CA certificates (PRODUCT §2)' },
        { name: 'certificates', description: 'Device certificates (PRODUCT §3)' },
        { name: 'events', description: 'The audit log of registry changes and refused connections' },
        { name: 'backup', description: 'Online backups of the registry' },
        { name: 'health', description: 'Probes and monitoring, no token' }
      ]
    },
    // every /api/v1 route needs the bearer token; the open ones (health, these docs) are outside it
    transform: ({ schema, url }) => {
      const open = !url.startsWith('/api/v1/') || url === OPENAPI_PATH || url.startsWith(DOCS_PATH)
      // the first path segment under /api/v1 names the group; everything else is a probe
      const tag = open ? 'health' : (/^\/api\/v1\/([^/]+)/.exec(url)?.[1] ?? 'health')
      // every error has one shape (docs/errors.md); declared here for the document only, so the
      // answers themselves are written by the error handler as before
      const response = { ...(schema?.response as Record<string, unknown> | undefined), '4XX': ERROR_RESPONSE, '5XX': ERROR_RESPONSE }
      return {
        schema: { tags: [tag], ...schema, response, ...(open ? {} : { security: [{ bearerAuth: [] }] }) },
        url
      }
    }
  }
}

const ERROR_RESPONSE = { ...ErrorBody, description: 'An error: its code is one of docs/errors.md, with the HTTP status given there' }

export async function openApiRoutes (app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_PATH, { schema: { hide: true }, logLevel: 'warn' }, async () => app.swagger())
  await app.register(swaggerUi, { routePrefix: DOCS_PATH, logLevel: 'warn', uiConfig: { docExpansion: 'list', deepLinking: false } })
}
