/**
 * /api/v1/cas: register (with optional proof of possession), list, show, change the settings of,
 * activate, deactivate and delete CA certificates, and bind them to listener hostnames (PRODUCT §2). CRLs: ca-crls.ts.
 */
import type { FastifyInstance } from 'fastify'
import type { CaAction } from '../../domain/lifecycle.js'
import type { CaBackend } from '../thread/backend.js'
import { CaBody, CaHostsBody, CaHostsRequest, CaListBody, RegisterCaBody, RegistrationCodeBody, UpdateCaBody } from '../schemas/ca.js'
import { IdParams } from '../schemas/common.js'
import { actorOf } from '../actor.js'
import { caCrlRoutes } from './ca-crls.js'

export interface CaRouteOptions {
  caService: CaBackend
}

const ACTIONS: readonly CaAction[] = ['activate', 'deactivate']

export async function caRoutes (app: FastifyInstance, { caService }: CaRouteOptions): Promise<void> {
  app.post<{ Body: RegisterCaBody }>('/cas', {
    schema: { body: RegisterCaBody, response: { 201: CaBody } }
  }, async (request, reply) => {
    const { certificatePem, registrationMode, autoActivate, description, hosts, verificationCertificatePem } = request.body
    const ca = await caService.register({ certificatePem, registrationMode, autoActivate, description, hosts, verificationCertificatePem, actor: actorOf(request) })
    request.log.info({
      event: 'ca.registered', caId: ca.id, serial: ca.serialNumber, subject: ca.subject,
      registrationMode: ca.registrationMode, autoActivate: ca.autoActivate, hosts: ca.hosts,
      proofOfPossession: verificationCertificatePem !== undefined
    }, `CA ${ca.id} registered`)
    return await reply.code(201).send(ca)
  })

  app.get('/cas', { schema: { response: { 200: CaListBody } } }, async () => {
    return { items: await caService.list() }
  })

  // static paths: find-my-way matches them before /cas/:id
  app.get('/cas/registration-code', { schema: { response: { 200: RegistrationCodeBody } } }, async () => {
    return { registrationCode: await caService.registrationCode() }
  })

  app.post('/cas/registration-code/rotate', { schema: { response: { 200: RegistrationCodeBody } } }, async (request) => {
    const registrationCode = await caService.rotateRegistrationCode(actorOf(request))
    request.log.info({ event: 'ca.registration_code_rotated' }, 'CA registration code rotated')
    return { registrationCode }
  })

  app.get<{ Params: IdParams }>('/cas/:id/hosts', { schema: { params: IdParams, response: { 200: CaHostsBody } } }, async (request) => {
    const ca = await caService.get(request.params.id)
    return { caId: ca.id, hosts: ca.hosts }
  })

  app.put<{ Params: IdParams, Body: CaHostsRequest }>('/cas/:id/hosts', {
    schema: { params: IdParams, body: CaHostsRequest, response: { 200: CaHostsBody } }
  }, async (request) => {
    const { ca, changed } = await caService.setHosts(request.params.id, request.body.hosts, actorOf(request))
    if (changed) request.log.info({ event: 'ca.hosts_changed', caId: ca.id, hosts: ca.hosts }, `CA ${ca.id} bound to ${ca.hosts.length} host(s)`)
    return { caId: ca.id, hosts: ca.hosts }
  })

  app.get<{ Params: IdParams }>('/cas/:id', { schema: { params: IdParams, response: { 200: CaBody } } }, async (request) => {
    return await caService.get(request.params.id)
  })

  app.patch<{ Params: IdParams, Body: UpdateCaBody }>('/cas/:id', {
    schema: { params: IdParams, body: UpdateCaBody, response: { 200: CaBody } }
  }, async (request) => {
    const { ca, changed } = await caService.update(request.params.id, request.body, actorOf(request))
    if (changed) {
      request.log.info({ event: 'ca.updated', caId: ca.id, registrationMode: ca.registrationMode, autoActivate: ca.autoActivate },
        `CA ${ca.id} updated`)
    }
    return ca
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

  await app.register(caCrlRoutes, { caService })
}
