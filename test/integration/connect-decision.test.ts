/**
 * ConnectService on a real embedded store: a registered certificate is decided synchronously
 * (no promise, so the CONNACK can leave in the turn that read the CONNECT) and always from the
 * committed state; unknown certificates and stores without a synchronous read answer later.
 * Then the aedes hooks on top of it, fed a client as aedes hands it over.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import '../../src/pki/x509-setup.js'
import { ConnectService, type ConnectOutcome } from '../../src/auth/connect-service.js'
import { TrustStore } from '../../src/auth/trust-store.js'
import { createCaCertificate, issueCertificate, type CertificateAndKey } from '../../src/pki/certificate-authority.js'
import { CaService } from '../../src/registry/ca-service.js'
import { CertificateService } from '../../src/registry/certificate-service.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LocalRegistrationLimiter } from '../../src/store/local-limiter.js'
import { LocalStatusBus } from '../../src/store/local-status-bus.js'
import type { RegistryStore } from '../../src/store/ports.js'
import type { Client } from 'aedes'
import { createAuthHooks, type AuthHooks } from '../../src/auth/aedes-hooks.js'
import { SessionRegistry } from '../../src/broker/sessions.js'
import { createLogger } from '../../src/log.js'
import { LogSink } from '../helpers/log-sink.js'
import { OpenSslPki } from '../helpers/openssl.js'

let dir: string
let store: EmbeddedRegistryStore
let ca: CertificateAndKey
let caId: string
let certificates: CertificateService
const bus = new LocalStatusBus()
const now = (): Date => new Date()

async function device (commonName: string, register: boolean): Promise<X509Certificate> {
  const issued = await issueCertificate({
    issuerCertificatePem: ca.certificatePem, issuerPrivateKeyPem: ca.privateKeyPem, subject: { commonName }, keyAlgorithm: 'EC-P256', validityDays: 30, purpose: 'client'
  })
  if (register) await certificates.register({ caId, certificatePem: issued.certificatePem })
  return new X509Certificate(issued.certificatePem)
}

async function service (over: RegistryStore = store): Promise<ConnectService> {
  const trust = new TrustStore(over)
  await trust.refresh()
  return new ConnectService({ store: over, trust, limiter: new LocalRegistrationLimiter(15), strictClientId: false, now })
}

const request = (leaf: X509Certificate): Parameters<ConnectService['authenticate']>[0] =>
  ({ leaf, packetClientId: '', clean: true })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certmq-connect-'))
  store = new EmbeddedRegistryStore({ path: join(dir, 'registry') })
  await store.open()
  ca = await createCaCertificate({ commonName: 'Decision Test CA', validityDays: 30, keyAlgorithm: 'EC-P256' })
  caId = (await new CaService({ store, bus, maxCas: 5, now }).register({ certificatePem: ca.certificatePem, registrationMode: 'manual' })).id
  certificates = new CertificateService({ store, bus, now })
})

afterAll(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('ConnectService.authenticate', () => {
  it('keys certificates by the SHA-256 of their DER, lowercase hex', async () => {
    const leaf = await device('fp-1', false)
    expect(ConnectService.fingerprintOf(leaf)).toBe(createHash('sha256').update(leaf.raw).digest('hex'))
  })

  it('decides a registered certificate synchronously, from the committed state after each change', async () => {
    const leaf = await device('sync-1', true)
    const connect = await service()
    const first = connect.authenticate(request(leaf))
    expect(first).not.toBeInstanceOf(Promise)
    expect(first).toMatchObject({ ok: true, clientId: 'sync-1', autoRegistered: false })

    await certificates.transition(ConnectService.fingerprintOf(leaf), 'deactivate')
    const second = connect.authenticate(request(leaf)) as ConnectOutcome
    expect(second).not.toBeInstanceOf(Promise)
    expect(second).toMatchObject({ ok: false, reason: 'inactive' })

    // deleted: no longer known, so decided later (chain, deny list) and refused as unregistered
    await certificates.delete(ConnectService.fingerprintOf(leaf))
    const third = connect.authenticate(request(leaf))
    expect(third).toBeInstanceOf(Promise)
    expect(await third).toMatchObject({ ok: false, reason: 'unregistered' })
  })

  it('answers later for an unknown certificate, and for a store without a synchronous read', async () => {
    // the synchronous read found nothing: the asynchronous one is not asked again
    let asyncReads = 0
    const counting = new Proxy(store, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key, target)
        if (key === 'getCertificate') asyncReads++
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value
      }
    })
    const unknown = (await service(counting)).authenticate(request(await device('unknown-1', false)))
    expect(unknown).toBeInstanceOf(Promise)
    expect(await unknown).toMatchObject({ ok: false, reason: 'unregistered' })
    expect(asyncReads).toBe(0)

    const leaf = await device('async-1', true)
    // the same store seen through a port that has no getCertificateNow (as a networked store would be)
    const remote = new Proxy(store, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key, target)
        if (key === 'getCertificateNow') return undefined
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value
      }
    })
    const later = (await service(remote)).authenticate(request(leaf))
    expect(later).toBeInstanceOf(Promise)
    expect(await later).toMatchObject({ ok: true, clientId: 'async-1' })
  })

  it('refuses another certificate\'s registered Client ID, from the synchronous read and from a store without one', async () => {
    const issue = async (commonName: string): Promise<string> => (await issueCertificate({
      issuerCertificatePem: ca.certificatePem, issuerPrivateKeyPem: ca.privateKeyPem, subject: { commonName }, keyAlgorithm: 'EC-P256', validityDays: 30, purpose: 'client'
    })).certificatePem
    const ownerPem = await issue('owner-dev')
    const owner = await certificates.register({ caId, certificatePem: ownerPem, clientId: 'owned-by-owner' })
    const otherPem = await issue('other-dev')
    await certificates.register({ caId, certificatePem: otherPem })
    const remote = new Proxy(store, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key, target)
        if (key === 'getCertificateNow' || key === 'certificateIdOfClientIdNow') return undefined
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value
      }
    })
    for (const over of [store, remote]) {
      const connect = await service(over)
      const taken = { leaf: new X509Certificate(otherPem), packetClientId: 'owned-by-owner', clean: true }
      expect(await connect.authenticate(taken)).toMatchObject({ ok: false, reason: 'client_id_mismatch' })
      const own = { leaf: new X509Certificate(ownerPem), packetClientId: 'owned-by-owner', clean: true }
      expect(await connect.authenticate(own)).toMatchObject({ ok: true, clientId: 'owned-by-owner', record: { id: owner.id } })
      expect(await connect.authenticate({ ...taken, packetClientId: 'free-id' })).toMatchObject({ ok: true, clientId: 'free-id' })
    }
  })

  it('turns a failing synchronous read into store_unavailable, not a throw', async () => {
    const leaf = await device('closed-1', true)
    const other = new EmbeddedRegistryStore({ path: join(dir, 'closed') })
    await other.open()
    const connect = await service(other)
    await other.close()
    expect(connect.authenticate(request(leaf))).toMatchObject({ ok: false, reason: 'store_unavailable' })
  })
})

describe('ConnectService: a CA renewed with its own key and name (a rollover), registered beside the old one', () => {
  let pki: OpenSslPki
  beforeAll(async () => { pki = await OpenSslPki.create() })
  afterAll(async () => { await pki.cleanup() })

  it('admits a new device under the active copy, whichever was registered first; the inactive one answers only alone', async () => {
    const cas = new CaService({ store, bus, maxCas: 10, now })
    const old = await pki.ca('rollover-old', { cn: 'Rollover Fleet CA' })
    const renewed = await pki.renewedRoot('rollover-new', old, { cn: 'Rollover Fleet CA' })
    const leaf = async (name: string): Promise<X509Certificate> => new X509Certificate((await pki.leaf(name, renewed, { cn: name })).pem)
    // both verify what either signed: only their status can choose
    const first = await leaf('rollover-dev-1')
    expect(first.verify(new X509Certificate(old.pem).publicKey)).toBe(true)
    const oldId = (await cas.register({ certificatePem: old.pem, registrationMode: 'auto' })).id
    const newId = (await cas.register({ certificatePem: renewed.pem, registrationMode: 'auto' })).id
    expect(newId).not.toBe(oldId)

    // the old copy retired: a new device is registered under the renewed one
    await cas.transition(oldId, 'deactivate')
    let outcome = await (await service()).authenticate(request(first))
    expect(outcome).toMatchObject({ ok: true, autoRegistered: true, record: { caId: newId } })

    // and the other way round: the renewed copy inactive, the old one active
    await cas.transition(newId, 'deactivate')
    await cas.transition(oldId, 'activate')
    outcome = await (await service()).authenticate(request(await leaf('rollover-dev-2')))
    expect(outcome).toMatchObject({ ok: true, autoRegistered: true, record: { caId: oldId } })

    // both inactive: refused as ca_inactive, not as an unknown CA
    await cas.transition(oldId, 'deactivate')
    outcome = await (await service()).authenticate(request(await leaf('rollover-dev-3')))
    expect(outcome).toMatchObject({ ok: false, reason: 'ca_inactive' })
  })
})

describe('ConnectService: a registered certificate is valid only while its CA and its intermediates are', () => {
  let pki: OpenSslPki
  beforeAll(async () => { pki = await OpenSslPki.create() })
  afterAll(async () => { await pki.cleanup() })
  const DAY_MS = 86_400_000

  it('refuses it as expired once the intermediate it was registered through, or its CA, has expired', async () => {
    const root = await pki.ca('short-root', { days: 20 })
    const intermediate = await pki.intermediate('short-int', root, { notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 10 * DAY_MS) })
    const viaIntermediate = await pki.leaf('short-via-int', intermediate, { cn: 'short-via-int', days: 365 })
    const direct = await pki.leaf('short-direct', root, { cn: 'short-direct', days: 365 })
    const rootId = (await new CaService({ store, bus, maxCas: 10, now }).register({ certificatePem: root.pem, registrationMode: 'manual' })).id
    const registered = await certificates.register({ caId: rootId, certificatePem: viaIntermediate.pem, chainPem: intermediate.pem })
    expect(registered.chainNotAfter).toBe(new Date(new X509Certificate(intermediate.pem).validTo).toISOString())
    await certificates.register({ caId: rootId, certificatePem: direct.pem })

    let offsetMs = 0
    const trust = new TrustStore(store)
    await trust.refresh()
    const connect = new ConnectService({ store, trust, limiter: new LocalRegistrationLimiter(15), strictClientId: false, now: () => new Date(Date.now() + offsetMs) })
    // the device does not send its intermediate again: the record remembers it
    const decide = (pem: string): ConnectOutcome | Promise<ConnectOutcome> => connect.authenticate(request(new X509Certificate(pem)))
    expect(decide(viaIntermediate.pem)).toMatchObject({ ok: true })
    expect(decide(direct.pem)).toMatchObject({ ok: true })
    offsetMs = 11 * DAY_MS
    expect(decide(viaIntermediate.pem)).toMatchObject({ ok: false, reason: 'expired' })
    expect(decide(direct.pem)).toMatchObject({ ok: true })
    offsetMs = 21 * DAY_MS
    expect(decide(direct.pem)).toMatchObject({ ok: false, reason: 'expired' })
  })

  it('admits it again once its expired CA was renewed with its own key and name (a rollover) and the renewal registered', async () => {
    const old = await pki.ca('rolled-root', { cn: 'Rolled Fleet CA', days: 20 })
    const cas = new CaService({ store, bus, maxCas: 20, now })
    const oldId = (await cas.register({ certificatePem: old.pem, registrationMode: 'manual' })).id
    const device = await pki.leaf('rolled-dev', old, { cn: 'rolled-dev', days: 365 })
    await certificates.register({ caId: oldId, certificatePem: device.pem })
    let offsetMs = 0
    const trust = new TrustStore(store)
    await trust.refresh()
    const connect = new ConnectService({ store, trust, limiter: new LocalRegistrationLimiter(15), strictClientId: false, now: () => new Date(Date.now() + offsetMs) })
    const decide = async (): Promise<ConnectOutcome> => await connect.authenticate(request(new X509Certificate(device.pem)))
    offsetMs = 21 * DAY_MS
    expect(await decide()).toMatchObject({ ok: false, reason: 'expired' })
    // the operator registers the renewed root: the device's record still names the old one
    const renewed = await pki.renewedRoot('rolled-root-2', old, { cn: 'Rolled Fleet CA', days: 3650 })
    await cas.register({ certificatePem: renewed.pem, registrationMode: 'manual' })
    await trust.refresh()
    expect(await decide()).toMatchObject({ ok: true, record: { caId: oldId } })
  })
})

describe('the aedes hooks: associated clients of a device that leaves during its CONNECT', () => {
  /** What the hooks read of an aedes client and its TLS socket (an emitter, for its 'close'). */
  function clientFor (leaf: X509Certificate, id: string): Client & { closed: boolean, conn: EventEmitter } {
    const socket = Object.assign(new EventEmitter(), { getPeerX509Certificate: () => leaf, servername: 'localhost', remoteAddress: '192.0.2.7' })
    return { id, conn: socket, closed: false } as unknown as Client & { closed: boolean, conn: EventEmitter }
  }

  let sessions: SessionRegistry

  async function hooks (): Promise<AuthHooks> {
    const trust = new TrustStore(store)
    await trust.refresh()
    const logger = createLogger('silent', new LogSink())
    sessions = new SessionRegistry(bus, trust, logger)
    return createAuthHooks({
      connect: await service(),
      sessions,
      store,
      nodeName: 'node-t',
      log: logger,
      now
    })
  }

  async function admit (h: AuthHooks, client: Client): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      h.preConnect(client, { cmd: 'connect', protocolVersion: 4, clientId: client.id, clean: true } as Parameters<AuthHooks['preConnect']>[1], (err, ok) => {
        if (err !== null || ok !== true) reject(err ?? new Error('refused')); else resolve()
      })
    })
  }

  it('records it disconnected when aedes reports the disconnect before the client is ready', async () => {
    const h = await hooks()
    const leaf = await device('leaves-early', true)
    const client = clientFor(leaf, 'leaves-early')
    await admit(h, client)
    // the device closed while aedes was finishing its CONNECT: clientDisconnect, then clientReady
    client.closed = true
    h.onClientDisconnect(client)
    h.onClientReady(client)
    const id = ConnectService.fingerprintOf(leaf)
    expect(await store.getAssociatedClients(id)).toEqual([
      expect.objectContaining({ clientId: 'leaves-early', connected: false, remoteAddress: '192.0.2.7', node: 'node-t' })
    ])
  })

  it('records a device that stays as connected, and its later disconnect', async () => {
    const h = await hooks()
    const leaf = await device('stays', true)
    const client = clientFor(leaf, 'stays')
    await admit(h, client)
    h.onClientReady(client)
    const id = ConnectService.fingerprintOf(leaf)
    expect(await store.getAssociatedClients(id)).toEqual([expect.objectContaining({ clientId: 'stays', connected: true })])
    // tracked while connected, so a revocation finds it; forgotten once its socket closes
    expect(sessions.fingerprintOf(client)).toBe(id)
    client.closed = true
    client.conn.emit('close')
    expect(sessions.fingerprintOf(client)).toBeUndefined()
    expect(sessions.size).toBe(0)
    h.onClientDisconnect(client)
    expect(await store.getAssociatedClients(id)).toEqual([expect.objectContaining({ clientId: 'stays', connected: false })])
  })
})
