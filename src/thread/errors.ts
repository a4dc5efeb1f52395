/**
 * Errors across a thread boundary (structured clone keeps neither class nor cause chain): a
 * CertmqError arrives as a CertmqError with its code and details, a system error with its code,
 * each with the stack where it was thrown and its causes.
 */
import { CertmqError, ERROR_CODES, type ErrorCode } from '../errors.js'

export interface SerializedError {
  name: string
  message: string
  /** A CertmqError's catalog code, or a system error's code (EADDRINUSE). */
  code?: string
  details?: Record<string, unknown>
  /** The stack where it was thrown, in the broker's thread: the log shows it under the request id. */
  stack?: string
  /** What caused it (the lmdb or file-system error behind STORE_UNAVAILABLE, …). */
  cause?: SerializedError
}

/** How many causes deep an error crosses; deeper ones are left out. */
const MAX_CAUSES = 4

export function serializeError (err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) }
  const code: unknown = Reflect.get(err, 'code')
  return {
    name: err.name,
    message: err.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(err instanceof CertmqError ? { details: { ...err.details } } : {}),
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(err.cause !== undefined && depth < MAX_CAUSES ? { cause: serializeError(err.cause, depth + 1) } : {})
  }
}

export function deserializeError (error: SerializedError): Error {
  const cause = error.cause === undefined ? undefined : { cause: deserializeError(error.cause) }
  const restored = error.name === 'CertmqError' && error.code !== undefined && Object.hasOwn(ERROR_CODES, error.code)
    ? new CertmqError(error.code as ErrorCode, error.message, error.details ?? {}, cause)
    : Object.assign(new Error(error.message, cause), { name: error.name }, error.code === undefined ? {} : { code: error.code })
  if (error.stack !== undefined) restored.stack = error.stack
  return restored
}

/** A message's error with nothing that could fail to clone: for a reply whose details could not cross. */
export function plainError (error: SerializedError): SerializedError {
  return { name: error.name, message: error.message, ...(error.code === undefined ? {} : { code: error.code }), ...(error.stack === undefined ? {} : { stack: error.stack }) }
}
