/** Query-string handling the list routes share. */
import type { FastifyRequest } from 'fastify'

/** preValidation: an empty filter means "no filter", so a search form can send every field. */
export async function dropEmptyQueryValues (request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>
  for (const [key, value] of Object.entries(query)) {
    if (value === '') delete query[key]
    else if (Array.isArray(value)) {
      const present = value.filter((item) => item !== '')
      if (present.length === 0) delete query[key]
      else query[key] = present
    }
  }
}
