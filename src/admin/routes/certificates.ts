/**
 * /api/v1/certificates: register, search, show, activate, deactivate, revoke and delete device
 * certificates (PRODUCT §3).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CertAction } from '../../domain/lifecycle.js'
import { parseCertificateSearch } from '../../domain/query-params.js'
import type { CertificateBackend } from '../thread/backend.js'
import { dropEmptyQueryValues } from '../query-values.js'
import { IdParams } from '../schemas/common.js'
import { actorOf } from '../actor.js'
import {
  CertificateBody, CertificateDetailsBody, CertificateListBody, CertificateListQuery, RegisterCertificateBody, RevokeBody
} from '../schemas/certificate.js'

export interface CertificateRouteOptions {
  certificateService: CertificateBackend
}

export async function certificateRoutes (app: FastifyInstance, { certificateService }: CertificateRouteOptions): Promise<void> {
  app.post<{ Body: RegisterCertificateBody }>('/certificates', {
    schema: { body: RegisterCertificateBody, response: { 201: CertificateBody } }
  }, async (request, reply) => {
    const { caId, certificatePem, chainPem, clientId, activate } = request.body
    const cert = await certificateService.register({ caId, certificatePem, chainPem, clientId, activate, actor: actorOf(request) })
    request.log.info({
      event: 'cert.registered', fingerprint: cert.id, serial: cert.serialNumber, caId: cert.caId,
      clientId: cert.clientId, status: cert.status, source: cert.source
    }, `certificate ${cert.id} registered`)
    return await reply.code(201).send(cert)
  })

  app.get<{ Querystring: CertificateListQuery }>('/certificates', {
    preValidation: dropEmptyQueryValues,
    schema: { querystring: CertificateListQuery, response: { 200: CertificateListBody } }
  }, async (request) => {
    return await certificateService.list(parseCertificateSearch(request.query))
  })

  app.get<{ Params: IdParams }>('/certificates/:id', {
    schema: { params: IdParams, response: { 200: CertificateDetailsBody } }
  }, async (request) => {
    return await certificateService.get(request.params.id)
  })

  for (const action of ['activate', 'deactivate'] as const) {
    app.post<{ Params: IdParams }>(`/certificates/:id/${action}`, {
      schema: { params: IdParams, response: { 200: CertificateBody } }
    }, async (request) => await transition(request, action, false))
  }

  app.post<{ Params: IdParams, Body: RevokeBody }>('/certificates/:id/revoke', {
    schema: { params: IdParams, body: RevokeBody, response: { 200: CertificateBody } }
  }, async (request) => await transition(request, 'revoke', request.body?.confirm === true))

  app.delete<{ Params: IdParams }>('/certificates/:id', {
    schema: { params: IdParams, response: { 200: CertificateBody } }
  }, async (request) => {
    const cert = await certificateService.delete(request.params.id, actorOf(request))
    request.log.info({ event: 'cert.deleted', fingerprint: cert.id, serial: cert.serialNumber, status: cert.status },
      `certificate ${cert.id} deleted`)
    return cert
  })

  async function transition (request: FastifyRequest<{ Params: IdParams }>, action: CertAction, confirm: boolean):
    Promise<CertificateBody> {
    const cert = await certificateService.transition(request.params.id, action, confirm, actorOf(request))
    request.log.info({ event: `cert.${action}d`, fingerprint: cert.id, serial: cert.serialNumber, status: cert.status },
      `certificate ${cert.id} ${action}d`)
    return cert
  }
}
