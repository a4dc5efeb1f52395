/**
 * Who an admin API call acts as, for events. Today there is one admin token, named `admin`;
 * when named tokens arrive (issue 4 item 6), bearer-auth.ts records the verified token's name on
 * the request and this function returns it: routes already pass `actorOf(request)` to services.
 */
import type { FastifyRequest } from 'fastify'
import { ACTOR_ADMIN } from '../domain/event.js'

export function actorOf (_request: FastifyRequest): string {
  return ACTOR_ADMIN
}
