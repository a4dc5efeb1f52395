/**
 * PRODUCT §2 CA controls at CONNECT, end to end: a whole certmq on port 0, real TLS with SNI,
 * mqtt.js devices, openssl-made certificates and CRLs. The server certificate names
 * fleet-a.example and fleet-b.example, so devices verify the server whichever name they send.
 */
import { readFile, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { fingerprintOf, OpenSslPki, type OpenSslCa, type OpenSslCert } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'

interface CaBody { id: string; hosts: string[] }
interface CertBody { id: string; status: string }

let pki: OpenSslPki
let certmq: TestCertmq
/** Every certmq this file started, the one the restart test replaced too: the logs test reads them all. */
const started: TestCertmq[] = []
async function start (...args: Parameters<typeof startCertmq>): Promise<TestCertmq> {
  const server = await startCertmq(...args)
  started.push(server)
  return server
}
/** Live subscribers, ended before a stop so a failed test cannot hold the listener open. */
const liveClients: MqttClient[] = []
function endLiveClients (): void {
  // forced, not awaited: endAsync never settles for a client the broker already dropped
  for (const client of liveClients.splice(0)) client.end(true)
}
/** Set once the restart test reopened a data dir, which startCertmq then leaves in place. */
let reopenedDir: string | undefined
const SERVER_NAMES = ['fleet-a.example', 'fleet-b.example']

async function registerCa (ca: OpenSslCa, registrationMode: 'auto' | 'manual', hosts?: string[]): Promise<CaBody> {
  const res = await certmq.api<CaBody>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode, ...(hosts === undefined ? {} : { hosts }) })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

async function registerCert (leaf: OpenSslCert, caId: string): Promise<CertBody> {
  const res = await certmq.api<CertBody>('POST', '/api/v1/certificates', { caId, certificatePem: leaf.pem })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

async function bind (caId: string, hosts: string[]): Promise<void> {
  const res = await certmq.api('PUT', `/api/v1/cas/${caId}/hosts`, { hosts })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

/** CONNACK code of a connect that is ended at once; servername null sends no SNI. */
async function codeOf (leaf: OpenSslCert, servername: string | null): Promise<number> {
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: leaf.pem, keyPem: leaf.keyPem }, { servername })
  await endClient(client)
  return code
}

function lastRejection (): { reason?: string; returnCode?: number; servername?: string } | undefined {
  return certmq.logs.events('connect.rejected').at(-1)
}

/** A connected subscriber and the moment its connection closes (Infinity if not within 2 s of `since`). */
async function live (leaf: OpenSslCert, servername: string): Promise<{ client: MqttClient; closedWithin: (since: number) => Promise<number> }> {
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: leaf.pem, keyPem: leaf.keyPem }, { servername })
  expect(code).toBe(0)
  liveClients.push(client!)
  await client!.subscribeAsync(`fleet/${leaf.name}/#`)
  const closed = new Promise<number>((resolve) => { client!.once('close', () => { resolve(performance.now()) }) })
  return {
    client: client!,
    closedWithin: async (since) => {
      const at = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => { resolve(Number.POSITIVE_INFINITY) }, 2000))])
      return at - since
    }
  }
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  certmq = await start({}, { config: { mqtts: { serverNames: SERVER_NAMES } } })
})

afterAll(async () => {
  endLiveClients()
  await certmq?.stop()
  await pki?.cleanup()
  if (reopenedDir !== undefined) await rm(reopenedDir, { recursive: true, force: true })
})

describe('§2 SNI host binding at CONNECT', () => {
  let ca: OpenSslCa
  let caId: string
  let device: OpenSslCert

  beforeAll(async () => {
    ca = await pki.ca('sni')
    caId = (await registerCa(ca, 'manual')).id
    device = await pki.leaf('sni-dev', ca, { cn: 'sni-dev' })
    await registerCert(device, caId)
  })

  it('trusts an unbound CA on every server name, and with no SNI at all', async () => {
    expect(await codeOf(device, 'fleet-b.example')).toBe(0)
    expect(await codeOf(device, null)).toBe(0)
  })

  it('admits on the bound name and rejects on another name, or none, with CONNACK 5 and reason ca_host_mismatch', async () => {
    await bind(caId, ['fleet-a.example'])
    expect(await codeOf(device, 'fleet-a.example')).toBe(0)
    expect(await codeOf(device, 'fleet-b.example')).toBe(5)
    expect(lastRejection()).toMatchObject({ reason: 'ca_host_mismatch', returnCode: 5, servername: 'fleet-b.example' })
    expect(await codeOf(device, null)).toBe(5)
    expect(lastRejection()?.reason).toBe('ca_host_mismatch')
    // the server name is compared without regard to case
    expect(await codeOf(device, 'FLEET-A.example')).toBe(0)
  })

  it('drops a live session within one second when its server name is no longer bound, and admits on the new name', async () => {
    await bind(caId, ['fleet-a.example'])
    const session = await live(device, 'fleet-a.example')
    const started = performance.now()
    await bind(caId, ['fleet-b.example'])
    expect(await session.closedWithin(started)).toBeLessThan(1000)
    expect(certmq.logs.events('session.dropped').at(-1)).toMatchObject({ reason: 'ca_host_mismatch' })
    expect(await codeOf(device, 'fleet-a.example')).toBe(5)
    expect(await codeOf(device, 'fleet-b.example')).toBe(0)
    const changes = async (): Promise<Array<{ id: string, type: string, actor: string, details: Record<string, unknown> }>> =>
      (await certmq.api<{ items: Array<{ id: string, type: string, actor: string, details: Record<string, unknown> }> }>('GET',
        `/api/v1/events?targetId=${caId}&type=ca.hosts_changed`)).body.items
    const recorded = await changes()
    expect(recorded[0]).toMatchObject({ actor: 'admin', details: { from: 'fleet-a.example', to: 'fleet-b.example' } })
    // the same binding again is no change: no event from "fleet-b.example" to itself
    await bind(caId, ['fleet-b.example'])
    expect(await changes()).toEqual(recorded)
  })

  it('keeps a live session whose server name stays bound', async () => {
    await bind(caId, ['fleet-a.example'])
    const session = await live(device, 'fleet-a.example')
    let closed = false
    session.client.once('close', () => { closed = true })
    await bind(caId, ['fleet-a.example', 'fleet-b.example'])
    await session.client.publishAsync('fleet/sni-dev/telemetry', 'still here', { qos: 1 })
    expect(closed).toBe(false)
    await endClient(session.client)
    await bind(caId, [])
    expect(await codeOf(device, null)).toBe(0)
  })

  it('applies to automatic registration: a bound auto CA neither admits nor registers a device on another name', async () => {
    const auto = await pki.ca('sni-auto')
    const autoCa = await registerCa(auto, 'auto', ['fleet-a.example'])
    expect(autoCa.hosts).toEqual(['fleet-a.example'])
    const newcomer = await pki.leaf('sni-newcomer', auto, { cn: 'sni-newcomer' })
    const id = fingerprintOf(newcomer.pem)
    expect(await codeOf(newcomer, 'fleet-b.example')).toBe(5)
    expect(lastRejection()?.reason).toBe('ca_host_mismatch')
    expect((await certmq.api('GET', `/api/v1/certificates/${id}`)).status).toBe(404)
    expect(await codeOf(newcomer, 'fleet-a.example')).toBe(0)
    expect((await certmq.api<CertBody>('GET', `/api/v1/certificates/${id}`)).body.status).toBe('active')
  })
})

describe('§2 CRLs at CONNECT', () => {
  let ca: OpenSslCa
  let caId: string
  let listed: OpenSslCert
  let kept: OpenSslCert
  let listedCert: CertBody

  beforeAll(async () => {
    ca = await pki.ca('crl-connect', { cn: 'CRL Connect CA' })
    caId = (await registerCa(ca, 'auto')).id
    listed = await pki.leaf('crl-listed', ca, { cn: 'crl-listed' })
    kept = await pki.leaf('crl-kept', ca, { cn: 'crl-kept' })
    listedCert = await registerCert(listed, caId)
    await registerCert(kept, caId)
  })

  it('rejects a listed serial with CONNACK 5 and reason revoked, and drops its live session within one second', async () => {
    const session = await live(listed, 'fleet-a.example')
    const other = await live(kept, 'fleet-a.example')
    const crl = await pki.crl('crl-connect-1', ca, { revoked: [listed], lastUpdate: new Date(Date.now() - 60_000) })
    const started = performance.now()
    const res = await certmq.api('POST', `/api/v1/cas/${caId}/crl`, { crlPem: crl.pem })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(await session.closedWithin(started)).toBeLessThan(1000)
    expect(certmq.logs.events('session.dropped').at(-1)).toMatchObject({ reason: 'revoked', fingerprint: listedCert.id })
    expect(await codeOf(listed, 'fleet-a.example')).toBe(5)
    expect(lastRejection()).toMatchObject({ reason: 'revoked', returnCode: 5 })
    // the other device's session and connects are untouched
    await other.client.publishAsync('fleet/crl-kept/telemetry', 'still here', { qos: 1 })
    expect(await codeOf(kept, 'fleet-a.example')).toBe(0)
    await endClient(other.client)
    // the registry record is not changed by a CRL: the CRL alone denies it
    expect((await certmq.api<CertBody>('GET', `/api/v1/certificates/${listedCert.id}`)).body.status).toBe('active')
  })

  it('keeps the previous CRL in force when a CRL signed by another key is refused', async () => {
    const impostor = await pki.ca('crl-connect-impostor', { cn: 'CRL Connect CA' })
    const forged = await pki.crl('crl-connect-forged', impostor, {})
    expect((await certmq.api<{ error: { code: string } }>('POST', `/api/v1/cas/${caId}/crl`, { crlPem: forged.pem })).body.error.code).toBe('CRL_INVALID')
    expect(await codeOf(listed, 'fleet-a.example')).toBe(5)
    expect(lastRejection()?.reason).toBe('revoked')
    // the refusal is an event and a metric; the import before it is an event too
    const events = await certmq.api<{ items: Array<{ type: string, reason?: string }> }>('GET', `/api/v1/events?targetId=${caId}&type=ca.crl_imported,ca.crl_refused`)
    expect(events.body.items.map((e) => [e.type, e.reason ?? null])).toEqual([['ca.crl_refused', 'CRL_INVALID'], ['ca.crl_imported', null]])
    // the reason filter takes the codes the log writes for CRL refusals
    const refusals = await certmq.api<{ items: Array<{ type: string }> }>('GET', `/api/v1/events?targetId=${caId}&reason=CRL_INVALID`)
    expect(refusals.body.items.map((e) => e.type)).toEqual(['ca.crl_refused'])
    const metrics = await (await fetch(`${certmq.adminUrl}/metrics`)).text()
    expect(metrics).toContain(`certmq_crl_last_import_failed{ca_id="${caId}"} 1`)
    expect(metrics).toContain(`certmq_crl_stale{ca_id="${caId}"} 0`)
    expect(metrics).toContain(`certmq_crl_revoked_serials{ca_id="${caId}"} 1`)
  })

  it('rejects an unknown certificate on the CRL of an auto CA as revoked, without registering it', async () => {
    const unknown = await pki.leaf('crl-unknown', ca, { cn: 'crl-unknown' })
    const crl = await pki.crl('crl-connect-2', ca, { revoked: [listed, unknown] })
    const res = await fetch(`${certmq.adminUrl}/api/v1/cas/${caId}/crl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${certmq.token}`, 'content-type': 'application/pkix-crl' },
      body: crl.der
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await codeOf(unknown, 'fleet-a.example')).toBe(5)
    expect(lastRejection()?.reason).toBe('revoked')
    const id = fingerprintOf(unknown.pem)
    expect((await certmq.api('GET', `/api/v1/certificates/${id}`)).status).toBe(404)
    // nor is it registered by hand: it could never connect
    const manual = await certmq.api<{ error: { code: string, message: string, details: Record<string, unknown> } }>('POST', '/api/v1/certificates', { caId, certificatePem: unknown.pem })
    expect(manual.status).toBe(409)
    expect(manual.body.error).toMatchObject({ code: 'CERT_REVOKED', details: { caId, fingerprint: id } })
    expect(manual.body.error.message).toContain(`on the CRL of CA ${caId}`)
    expect((await certmq.api('GET', `/api/v1/certificates/${id}`)).status).toBe(404)
  })

  it('admits a serial again once a newer CRL no longer lists it', async () => {
    const crl = await pki.crl('crl-connect-3', ca, { revoked: [] })
    expect((await certmq.api('POST', `/api/v1/cas/${caId}/crl`, { crlPem: crl.pem })).status).toBe(200)
    expect(await codeOf(listed, 'fleet-a.example')).toBe(0)
    const metrics = await (await fetch(`${certmq.adminUrl}/metrics`)).text()
    expect(metrics).toContain(`certmq_crl_last_import_failed{ca_id="${caId}"} 0`)
    expect(metrics).toContain(`certmq_crl_revoked_serials{ca_id="${caId}"} 0`)
  })
})

describe('§2 a root CA\'s CRL that lists an intermediate', () => {
  it('drops and refuses every device under the revoked intermediate, known or new, sent or not, and keeps devices directly under the root', async () => {
    const root = await pki.ca('crl-root', { cn: 'CRL Root CA' })
    const rootId = (await registerCa(root, 'auto')).id
    const intermediate = await pki.intermediate('crl-int', root, { cn: 'CRL Intermediate' })
    const known = await pki.leaf('crl-int-known', intermediate, { cn: 'crl-int-known' })
    const fresh = await pki.leaf('crl-int-fresh', intermediate, { cn: 'crl-int-fresh' })
    const direct = await pki.leaf('crl-root-direct', root, { cn: 'crl-root-direct' })
    const viaChain = async (leaf: OpenSslCert): Promise<{ code: number, client: MqttClient | undefined }> =>
      await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { chainPem: await readFile(leaf.chainPath, 'utf8'), keyPem: leaf.keyPem })

    const session = await viaChain(known) // auto-registered under the root
    expect(session.code, JSON.stringify(lastRejection())).toBe(0)
    liveClients.push(session.client!)
    const closed = new Promise<number>((resolve) => { session.client!.once('close', () => { resolve(performance.now()) }) })

    const crl = await pki.crl('crl-root-1', root, { revoked: [intermediate], lastUpdate: new Date(Date.now() - 60_000) })
    const started = performance.now()
    expect((await certmq.api('POST', `/api/v1/cas/${rootId}/crl`, { crlPem: crl.pem })).status).toBe(200)
    const at = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => { resolve(Number.POSITIVE_INFINITY) }, 2000))])
    expect(at - started).toBeLessThan(1000)

    for (const leaf of [known, fresh]) {
      const again = await viaChain(leaf)
      await endClient(again.client)
      expect(again.code).toBe(5)
      expect(lastRejection()?.reason).toBe('revoked')
    }
    // a registered device cannot escape by leaving the intermediate out of its chain
    expect(await codeOf(known, null)).toBe(5)
    expect(lastRejection()?.reason).toBe('revoked')
    expect((await certmq.api<{ total: number }>('GET', '/api/v1/certificates?commonName=crl-int-fresh')).body.total).toBe(0)
    // a device under the revoked intermediate is not registered by hand either
    const manual = await certmq.api<{ error: { code: string, message: string } }>('POST', '/api/v1/certificates',
      { caId: rootId, certificatePem: fresh.pem, chainPem: intermediate.pem })
    expect(manual.status).toBe(409)
    expect(manual.body.error.code).toBe('CERT_REVOKED')
    expect(manual.body.error.message).toContain('the intermediate CA it chains through')
    expect(await codeOf(direct, null)).toBe(0)
    // one directly under the root and not listed is
    const other = await pki.leaf('crl-root-direct-2', root, { cn: 'crl-root-direct-2' })
    expect((await certmq.api('POST', '/api/v1/certificates', { caId: rootId, certificatePem: other.pem })).status).toBe(201)
  })
})

describe('§2 a CA renewed with its own key and name (a rollover), registered beside the old one', () => {
  it('enforces a CRL imported for either copy on the devices registered under the other, live sessions included', async () => {
    const old = await pki.ca('rollover-old', { cn: 'Rollover CA' })
    const oldId = (await registerCa(old, 'auto')).id
    const device = await pki.leaf('rollover-dev', old, { cn: 'rollover-dev' })
    const deviceCert = await registerCert(device, oldId)
    const renewed = await pki.renewedRoot('rollover-new', old, { cn: 'Rollover CA' })
    const renewedId = (await registerCa(renewed, 'auto')).id
    const session = await live(device, 'fleet-a.example')
    // the issuer's newest CRL, imported where the operator now keeps the CA: the renewed copy
    const crl = await pki.crl('rollover-crl', renewed, { revoked: [device], lastUpdate: new Date(Date.now() - 60_000) })
    const started = performance.now()
    expect((await certmq.api('POST', `/api/v1/cas/${renewedId}/crl`, { crlPem: crl.pem })).status).toBe(200)
    expect(await session.closedWithin(started)).toBeLessThan(1000)
    expect(certmq.logs.events('session.dropped').at(-1)).toMatchObject({ reason: 'revoked', fingerprint: deviceCert.id })
    expect(await codeOf(device, 'fleet-a.example')).toBe(5)
    expect(lastRejection()).toMatchObject({ reason: 'revoked', returnCode: 5 })
    // an older CRL imported for the old copy afterwards does not readmit it: the newest is in force
    const older = await pki.crl('rollover-crl-older', old, { revoked: [], lastUpdate: new Date(Date.now() - 3_600_000) })
    expect((await certmq.api('POST', `/api/v1/cas/${oldId}/crl`, { crlPem: older.pem })).status).toBe(200)
    expect(await codeOf(device, 'fleet-a.example')).toBe(5)
    const newer = await pki.crl('rollover-crl-newer', old, { revoked: [] })
    expect((await certmq.api('POST', `/api/v1/cas/${oldId}/crl`, { crlPem: newer.pem })).status).toBe(200)
    expect(await codeOf(device, 'fleet-a.example')).toBe(0)
  })
})

describe('§2 an intermediate registered as a CA of its own under a registered root', () => {
  it('refuses and drops the devices registered under the intermediate when the root\'s CRL lists it, or the root is deactivated', async () => {
    const root = await pki.ca('above-root', { cn: 'Above Root CA' })
    const rootId = (await registerCa(root, 'auto')).id
    const intermediate = await pki.intermediate('above-int', root, { cn: 'Above Intermediate' })
    const intermediateId = (await registerCa(intermediate, 'auto')).id
    const known = await pki.leaf('above-known', intermediate, { cn: 'above-known' })
    const fresh = await pki.leaf('above-fresh', intermediate, { cn: 'above-fresh' })
    const knownCert = await registerCert(known, intermediateId)
    const session = await live(known, 'fleet-a.example')

    const crl = await pki.crl('above-root-crl', root, { revoked: [intermediate], lastUpdate: new Date(Date.now() - 60_000) })
    const started = performance.now()
    expect((await certmq.api('POST', `/api/v1/cas/${rootId}/crl`, { crlPem: crl.pem })).status).toBe(200)
    expect(await session.closedWithin(started)).toBeLessThan(1000)
    expect(certmq.logs.events('session.dropped').at(-1)).toMatchObject({ reason: 'revoked', fingerprint: knownCert.id })
    for (const leaf of [known, fresh]) {
      expect(await codeOf(leaf, 'fleet-a.example')).toBe(5)
      expect(lastRejection()).toMatchObject({ reason: 'revoked', returnCode: 5 })
    }
    // refused before it is registered under the revoked intermediate
    expect((await certmq.api('GET', `/api/v1/certificates/${fingerprintOf(fresh.pem)}`)).status).toBe(404)

    const cleared = await pki.crl('above-root-crl-2', root, { revoked: [] })
    expect((await certmq.api('POST', `/api/v1/cas/${rootId}/crl`, { crlPem: cleared.pem })).status).toBe(200)
    const again = await live(known, 'fleet-a.example')
    const deactivated = performance.now()
    expect((await certmq.api('POST', `/api/v1/cas/${rootId}/deactivate`)).status).toBe(200)
    expect(await again.closedWithin(deactivated)).toBeLessThan(1000)
    expect(certmq.logs.events('session.dropped').at(-1)).toMatchObject({ reason: 'ca_inactive', fingerprint: knownCert.id })
    expect(await codeOf(fresh, 'fleet-a.example')).toBe(5)
    expect(lastRejection()).toMatchObject({ reason: 'ca_inactive', returnCode: 5 })
    expect((await certmq.api('POST', `/api/v1/cas/${rootId}/activate`)).status).toBe(200)
    expect(await codeOf(known, 'fleet-a.example')).toBe(0)
  })

  it('keeps admitting them while a renewed copy of the root stays active beside a deactivated old one', async () => {
    const root = await pki.ca('above-roll-root', { cn: 'Above Rollover Root' })
    const rootId = (await registerCa(root, 'auto')).id
    const renewed = await pki.renewedRoot('above-roll-renewed', root, { cn: 'Above Rollover Root' })
    await registerCa(renewed, 'auto')
    const intermediate = await pki.intermediate('above-roll-int', root, { cn: 'Above Rollover Intermediate' })
    const intermediateId = (await registerCa(intermediate, 'auto')).id
    const device = await pki.leaf('above-roll-dev', intermediate, { cn: 'above-roll-dev' })
    await registerCert(device, intermediateId)
    expect((await certmq.api('POST', `/api/v1/cas/${rootId}/deactivate`)).status).toBe(200)
    expect(await codeOf(device, 'fleet-a.example')).toBe(0)
  })
})

describe('§2 CA controls survive a restart', () => {
  it('keeps host bindings and the CRL in force in the embedded store', async () => {
    const ca = await pki.ca('durable')
    const caId = (await registerCa(ca, 'manual', ['fleet-a.example'])).id
    const listed = await pki.leaf('durable-listed', ca, { cn: 'durable-listed' })
    const fine = await pki.leaf('durable-fine', ca, { cn: 'durable-fine' })
    await registerCert(listed, caId)
    await registerCert(fine, caId)
    const crl = await pki.crl('durable-crl', ca, { revoked: [listed] })
    expect((await certmq.api('POST', `/api/v1/cas/${caId}/crl`, { crlPem: crl.pem })).status).toBe(200)

    const dataDir = certmq.dataDir
    endLiveClients()
    await certmq.stop({ keepData: true })
    reopenedDir = dataDir
    certmq = await start({}, { dataDir })
    expect((await certmq.api<CaBody>('GET', `/api/v1/cas/${caId}`)).body.hosts).toEqual(['fleet-a.example'])
    expect(await codeOf(listed, 'fleet-a.example')).toBe(5)
    expect(lastRejection()?.reason).toBe('revoked')
    expect(await codeOf(fine, 'fleet-b.example')).toBe(5)
    expect(lastRejection()?.reason).toBe('ca_host_mismatch')
    expect(await codeOf(fine, 'fleet-a.example')).toBe(0)
  })
})

describe('logs', () => {
  it('never contain PEM text or an admin token, in any server this file started', () => {
    // the first server and the one the restart test put in its place
    expect(started).toHaveLength(2)
    const lines = started.flatMap((server) => server.logs.raw)
    // the tests above log about 90 lines, the restarted server alone under a dozen: fewer than
    // this means the check is reading the wrong sinks
    expect(lines.length).toBeGreaterThanOrEqual(50)
    for (const line of lines) {
      expect(line).not.toContain('-----BEGIN')
      for (const server of started) expect(line).not.toContain(server.token)
    }
  })
})
