/**
 * Every admin API failure becomes `{ "error": { "code", "message", "details", "requestId" } }`
 * with the catalog status (STYLE §3). What the caller may see is decided here: CertmqError and
 * request validation are shown; anything else is a generic 500 INTERNAL whose error and cause go
 * to the log only, under the request id.
 */
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { CertmqError, ERROR_CODES, type ErrorCode } from '../errors.js'
import type { ErrorBody } from './schemas/common.js'

const errorCodes = new WeakMap<FastifyRequest, ErrorCode>()

/** The code the request failed with, for the request log line; undefined on success. */
export function errorCodeOf (request: FastifyRequest): ErrorCode | undefined {
  return errorCodes.get(request)
}

export function errorHandler (error: FastifyError | CertmqError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const exposed = toCertmqError(error, request)
  if (exposed === undefined) {
    request.log.error({ event: 'request.failed', code: 'INTERNAL', err: error },
      `unexpected error in ${request.method} ${request.routeOptions.url ?? 'unknown route'}`)
    return sendError(request, reply, new CertmqError('INTERNAL',
      `an unexpected error occurred; the server log has the details under request id ${request.id}`))
  }
  if (exposed.status >= 500) {
    // STORE_UNAVAILABLE and the like: an operator must act, so the cause goes to the log
    request.log.error({ event: 'request.failed', code: exposed.code, err: error }, exposed.message)
  }
  return sendError(request, reply, exposed)
}

/**
 * Unknown routes answer NOT_FOUND in the same body as every other error; a known path asked with
 * a method it does not have answers 405 METHOD_NOT_ALLOWED with an Allow header (RFC 9110 §15.5.6),
 * `allowedMethods` saying which. A route that takes the method and found nothing itself (a file
 * of the docs that does not exist: @fastify/static calls the not-found handler) is a 404 too.
 */
export function notFoundHandler (allowedMethods: (path: string) => string[]): (request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (request, reply) => {
    const path = pathOf(request)
    const allowed = allowedMethods(path)
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      void reply.header('allow', allowed.join(', '))
      return sendError(request, reply, new CertmqError('METHOD_NOT_ALLOWED', `${path} does not take ${request.method}; it takes ${allowed.join(', ')}`,
        { method: request.method, path, allowed }))
    }
    return sendError(request, reply, noRoute(request))
  }
}

function pathOf (request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url
}

function noRoute (request: FastifyRequest): CertmqError {
  const path = pathOf(request)
  return new CertmqError('NOT_FOUND', `no route ${request.method} ${path}`, { method: request.method, path })
}

function sendError (request: FastifyRequest, reply: FastifyReply, error: CertmqError): FastifyReply {
  errorCodes.set(request, error.code)
  const body: ErrorBody = {
    error: { code: error.code, message: error.message, details: { ...error.details }, requestId: request.id }
  }
  return reply.code(ERROR_CODES[error.code].status).type('application/json; charset=utf-8').send(body)
}

/** The error as the caller may see it, or undefined when only the log may see it. */
function toCertmqError (error: FastifyError | CertmqError | Error, request: FastifyRequest): CertmqError | undefined {
  if (error instanceof CertmqError) return error
  const fastifyError = error as Partial<FastifyError>
  if (fastifyError.validation !== undefined && fastifyError.validation.length > 0) {
    return validationError(fastifyError.validation, fastifyError.validationContext ?? 'body')
  }
  // 413, as proxies and HTTP clients expect for a body over the limit
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new CertmqError('PAYLOAD_TOO_LARGE', 'body is larger than the admin API accepts (1 MiB; a CRL up to 10 MiB)', { location: 'body' })
  }
  const message = REQUEST_ERROR_MESSAGES[fastifyError.code ?? '']
  if (message !== undefined) return new CertmqError('VALIDATION_FAILED', message, { location: 'body' })
  // fastify's own 4xx errors (bad URL encoding, …) describe the request, never our internals
  const status = fastifyError.statusCode ?? 500
  if (fastifyError.code?.startsWith('FST_ERR_') === true && status >= 400 && status < 500) {
    return new CertmqError('VALIDATION_FAILED', error.message, { fastifyCode: fastifyError.code })
  }
  // a plugin's http-errors error about the request (`expose` is set on 4xx ones only): @fastify/static,
  // serving the docs' files, refuses a path that leaves its root (403) and a Range or If-Match it
  // cannot meet (416, 412). Such a path names no file, as one with its `..` resolved names no route
  if (status >= 400 && status < 500 && (error as { expose?: unknown }).expose === true) {
    if (status === 403 || status === 404) return noRoute(request)
    return new CertmqError('VALIDATION_FAILED', `${request.method} ${pathOf(request)}: ${error.message}`, { status })
  }
  return undefined
}

const REQUEST_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'body is not valid JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'body must be JSON (content-type: application/json)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'body size does not match the content-length header'
}

/**
 * Turns the first schema violation into a message that names the field or parameter, such as
 * `body/registrationMode must be equal to one of the allowed values (manual, auto)`.
 */
export function validationError (errors: readonly FastifySchemaValidationError[], location: string): CertmqError {
  const first = errors[0] as FastifySchemaValidationError
  const params = first.params
  const path = `${location}${first.instancePath}`
  const noun = location === 'body' ? 'field' : 'parameter'
  const details: Record<string, unknown> = { location, field: fieldPath(first.instancePath), rule: first.keyword }
  let message: string
  switch (first.keyword) {
    case 'required': {
      const missing = String(params['missingProperty'])
      details['field'] = joinField(first.instancePath, missing)
      message = `${path}/${missing} is required`
      break
    }
    case 'additionalProperties': {
      const extra = String(params['additionalProperty'])
      details['field'] = joinField(first.instancePath, extra)
      message = `${path}/${extra} is not a known ${noun}`
      break
    }
    case 'enum': {
      const allowed = Array.isArray(params['allowedValues']) ? params['allowedValues'].map(String) : []
      details['allowedValues'] = allowed
      message = `${path} must be equal to one of the allowed values (${allowed.join(', ')})`
      break
    }
    default:
      message = `${path} ${first.message ?? 'is not valid'}`
  }
  return new CertmqError('VALIDATION_FAILED', message, details)
}

function fieldPath (instancePath: string): string {
  const parts = instancePath.split('/').filter((part) => part !== '')
  return parts.join('.')
}

function joinField (instancePath: string, name: string): string {
  const parent = fieldPath(instancePath)
  return parent === '' ? name : `${parent}.${name}`
}
