/**
 * Schema pieces every route shares: the `:id` parameter, the error body, and string enums written
 * as JSON Schema `enum` (TypeBox unions of literals become `anyOf`, whose validation messages do
 * not name the allowed values).
 */
import { Type, type Static, type TString, type TUnsafe } from '@sinclair/typebox'

/** `{ type: 'string', enum: values }`, typed as the union of `values`. */
export function stringEnum<const T extends readonly string[]> (values: T, options: { description?: string, default?: T[number] } = {}):
  TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/** Ids are SHA-256 fingerprints in hex; upper case and colon-separated forms are accepted too. */
export const IdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: 'SHA-256 fingerprint of the certificate, hex' })
}, { additionalProperties: false })
export type IdParams = Static<typeof IdParams>

/** Every error answer: `{ "error": { "code", "message", "details", "requestId" } }` (docs/errors.md). */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable code from docs/errors.md' }),
    message: Type.String({ description: 'What went wrong and where' }),
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'The same facts as fields' }),
    requestId: Type.String({ description: 'Find the matching log line with this id' })
  })
})
export type ErrorBody = Static<typeof ErrorBody>

/** ISO 8601 instant. */
export function instant (description?: string): TString {
  return Type.String({ format: 'date-time', ...(description === undefined ? {} : { description }) })
}
