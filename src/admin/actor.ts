/**
 * Who an admin API call acts as, for events: the name of the token that authenticated it
 * (bearer-auth.ts sets `request.principal`), `admin` for the built-in token.
 */
import type { FastifyRequest } from 'fastify'
import { ACTOR_ADMIN } from '../domain/event.js'

export function actorOf (request: FastifyRequest): string {
  return request.principal?.name ?? ACTOR_ADMIN
}
