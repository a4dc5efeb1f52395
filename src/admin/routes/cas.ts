/** /api/v1/cas: register, list, show, activate, deactivate and delete CA certificates (PRODUCT §2). */
import type { FastifyInstance } from 'fastify'
import type { CaAction } from '../../domain/lifecycle.js'
import type { CaService } from '../../registry/ca-service.js'
import { CaBody, CaListBody, RegisterCaBody } from '../schemas/ca.js'
import { IdParams } from '../schemas/common.js'
import { actorOf } from '../actor.js'

export interface CaRouteOptions {
  caService: CaService
}

const ACTIONS: readonly CaAction[] = ['activate', 'deactivate']

export async function caRoutes (app: FastifyInstance, { caService }: CaRouteOptions): Promise<void> {
  app.post<{ Body: RegisterCaBody }>('/cas', {
    schema: { body: RegisterCaBody, response: { 201: CaBody } }
  }, async (request, reply) => {
    const { certificatePem, registrationMode, autoActivate, description } = request.body
    const ca = await caService.register({ certificatePem, registrationMode, autoActivate, description, actor: actorOf(request) })
    request.log.info({
      event: 'ca.registered', caId: ca.id, serial: ca.serialNumber, subject: ca.subject,
      registrationMode: ca.registrationMode, autoActivate: ca.autoActivate
    }, `CA ${ca.id} registered`)
    return await reply.code(201).send(ca)
  })

  app.get('/cas', { schema: { response: { 200: CaListBody } } }, async () => {
    return { items: await caService.list() }
  })

  app.get<{ Params: IdParams }>('/cas/:id', { schema: { params: IdParams, response: { 200: CaBody } } }, async (request) => {
    return await caService.get(request.params.id)
  })

  for (const action of ACTIONS) {
    app.post<{ Params: IdParams }>(`/cas/:id/${action}`, {
      schema: { params: IdParams, response: { 200: CaBody } }
    }, async (request) => {
      const ca = await caService.transition(request.params.id, action, actorOf(request))
      request.log.info({ event: `ca.${action}d`, caId: ca.id, status: ca.status }, `CA ${ca.id} ${action}d`)
      return ca
    })
  }

  app.delete<{ Params: IdParams }>('/cas/:id', { schema: { params: IdParams, response: { 200: CaBody } } }, async (request) => {
    const ca = await caService.delete(request.params.id, actorOf(request))
    request.log.info({ event: 'ca.deleted', caId: ca.id, serial: ca.serialNumber }, `CA ${ca.id} deleted`)
    return ca
  })
}
