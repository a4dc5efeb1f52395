/**
 * Bearer-token auth for the routes that need it (STYLE §9.8): app.ts registers this plugin inside
 * the /api/v1 prefix only (and around /metrics when metrics.requireToken is set), so /healthz and
 * any route outside stays open without opting out of anything. The token comparison is
 * constant-time inside `authenticate`. The token's principal goes on `request.principal`; a
 * viewer token that tries to write gets 403 FORBIDDEN.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CertmqError } from '../errors.js'
import { mayPerform, type Principal } from './principal.js'
import { BEARER_HEADER } from '../domain/bearer-token.js'

export interface BearerAuthOptions {
  authenticate (token: string): Principal | undefined
}

export async function bearerAuth (app: FastifyInstance, options: BearerAuthOptions): Promise<void> {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization
    const token = header === undefined ? undefined : BEARER_HEADER.exec(header)?.[1]
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer')
      throw new CertmqError('UNAUTHORIZED', header === undefined
        ? 'no Authorization header: send "Authorization: Bearer <admin token>"'
        : 'malformed Authorization header: expected "Bearer <admin token>"',
      { reason: header === undefined ? 'missing' : 'malformed' })
    }
    const principal = options.authenticate(token)
    if (principal === undefined) {
      // RFC 6750 §3.1
      reply.header('www-authenticate', 'Bearer error="invalid_token"')
      throw new CertmqError('UNAUTHORIZED', 'the bearer token is not valid', { reason: 'invalid_token' })
    }
    request.principal = principal
    if (!mayPerform(principal.role, request.method)) {
      // RFC 6750 §3.1
      reply.header('www-authenticate', 'Bearer error="insufficient_scope"')
      throw new CertmqError('FORBIDDEN',
        `token "${principal.name}" has role ${principal.role}, which may only read (GET, HEAD), not ${request.method}`,
        { tokenName: principal.name, role: principal.role, method: request.method })
    }
  })
}

// Fastify's documented way to let a plugin's hooks apply to the context that registers it (what
// fastify-plugin sets): the hook lands in the /api/v1 context and nowhere above it.
Object.defineProperty(bearerAuth, Symbol.for('skip-override'), { value: true })
