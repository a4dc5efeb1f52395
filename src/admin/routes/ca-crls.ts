/**
 * /api/v1/cas/:id/crl: import a CA's revocation list (PEM in JSON, or DER as
 * application/pkix-crl) and show its state (PRODUCT §2). Its own plugin, so the DER body parser
 * and the larger body limit apply to these routes only.
 */
import type { FastifyInstance } from 'fastify'
import { actorOf } from '../actor.js'
import { CertmqError, isCertmqError } from '../../errors.js'
import type { CaBackend } from '../thread/backend.js'
import { CrlBody, CrlPemRequest, CrlQuery, MAX_CRL_BYTES } from '../schemas/ca.js'
import { IdParams } from '../schemas/common.js'

export interface CaCrlRouteOptions {
  caService: CaBackend
}

const DER_TYPE = 'application/pkix-crl'
/** A PEM of MAX_CRL_BYTES: base64 (4/3) in 64-column lines (65/64), plus the JSON around it. */
const BODY_LIMIT = Math.ceil(MAX_CRL_BYTES * 4 / 3 * 65 / 64) + 64 * 1024

export async function caCrlRoutes (app: FastifyInstance, { caService }: CaCrlRouteOptions): Promise<void> {
  // RFC 2585 §4.2: the media type of a DER CRL
  app.addContentTypeParser(DER_TYPE, { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  app.post<{ Params: IdParams, Body: CrlPemRequest | Buffer }>('/cas/:id/crl', {
    bodyLimit: BODY_LIMIT,
    schema: {
      params: IdParams,
      body: {
        content: {
          'application/json': { schema: CrlPemRequest },
          [DER_TYPE]: { schema: { description: 'The CRL as DER bytes' } }
        }
      },
      response: { 200: CrlBody }
    }
  }, async (request) => {
    const input = Buffer.isBuffer(request.body) ? request.body : request.body.crlPem
    // a PEM body is bounded by bodyLimit already; DER is denser, so it gets its own bound, answered
    // as a body over bodyLimit is (413, as HTTP clients and proxies expect)
    if (Buffer.isBuffer(input) && input.length > MAX_CRL_BYTES) {
      throw new CertmqError('PAYLOAD_TOO_LARGE', `body: a CRL may have at most ${MAX_CRL_BYTES} bytes (10 MiB)`, { location: 'body', limit: MAX_CRL_BYTES })
    }
    try {
      const crl = await caService.importCrl(request.params.id, input, actorOf(request))
      request.log.info({
        event: 'crl.imported', caId: crl.caId, revokedCount: crl.revokedCount, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate
      }, `CRL imported for CA ${crl.caId}: ${crl.revokedCount} revoked serial(s)`)
      return crl
    } catch (err) {
      if (isCertmqError(err, 'CRL_INVALID') || isCertmqError(err, 'CRL_STALE')) {
        // an operator must act: the CRL in force stays, and it may be out of date
        request.log.warn({ event: 'crl.refused', caId: request.params.id, code: err.code, reason: err.message },
          `CRL for CA ${request.params.id} refused; the previous CRL stays in force`)
      }
      throw err
    }
  })

  app.get<{ Params: IdParams, Querystring: CrlQuery }>('/cas/:id/crl', {
    schema: { params: IdParams, querystring: CrlQuery, response: { 200: CrlBody } }
  }, async (request) => {
    return await caService.getCrl(request.params.id, request.query.includePem)
  })
}
