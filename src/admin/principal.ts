/**
 * Who made an admin API request: the name and role of the bearer token that authenticated it.
 * bearer-auth.ts sets `request.principal`; it stays null on routes without auth (/healthz).
 * Later event logging uses `principal.name` as the actor.
 */
import type { Config } from '../config/schema.js'

export type AdminRole = Config['admin']['tokens'][number]['role']

export interface Principal {
  readonly name: string
  readonly role: AdminRole
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD'])

/** `admin` may do everything; `viewer` only reads. */
export function mayPerform (role: AdminRole, method: string): boolean {
  return role === 'admin' || READ_METHODS.has(method)
}
