/**
 * PRODUCT §1 end to end: real TLS, openssl-made certificates, mqtt.js devices, the admin API.
 */
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenSslPki, type OpenSslCa, type OpenSslLeaf } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient, RawMqttSession, type DeviceCredentials } from '../helpers/mqtt.js'
import { waitFor } from '../helpers/wait-for.js'

interface CaBody { id: string; status: string }
interface CertBody { id: string; status: string; source: string; caId: string; clientId: string | null; associatedClients?: Array<{ clientId: string; connected: boolean; remoteAddress: string }> }
interface ErrorBody { error: { code: string; message: string } }

let pki: OpenSslPki
let certmq: TestCertmq
const cas: Record<string, CaBody> = {}
let fleet: OpenSslCa
const caByName = new Map<string, OpenSslCa>()

async function registerCa (ca: OpenSslCa, registrationMode: 'auto' | 'manual', autoActivate = true): Promise<CaBody> {
  const res = await certmq.api<CaBody>('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode, autoActivate, description: ca.name })
  expect(res.status).toBe(201)
  return res.body
}

async function registerCert (leaf: OpenSslLeaf, caId: string, extra: Record<string, unknown> = {}): Promise<CertBody> {
  const res = await certmq.api<CertBody>('POST', '/api/v1/certificates', { caId, certificatePem: leaf.pem, ...extra })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

function creds (leaf: OpenSslLeaf): DeviceCredentials {
  return { certPem: leaf.pem, keyPem: leaf.keyPem }
}

async function codeOf (leaf: OpenSslLeaf | DeviceCredentials, clientId = ''): Promise<number> {
  const device = 'keyPath' in leaf ? creds(leaf) : leaf
  const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, device, { clientId })
  await endClient(client)
  return code
}

function lastRejection (): string | undefined {
  return certmq.logs.events('connect.rejected').at(-1)?.reason
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  fleet = await pki.ca('fleet')
  const [autoCa, pendingCa, otherCa] = await Promise.all([pki.ca('auto'), pki.ca('pending'), pki.ca('other')])
  caByName.set('auto', autoCa).set('pending', pendingCa).set('other', otherCa)
  certmq = await startCertmq()
  cas['fleet'] = await registerCa(fleet, 'manual')
  cas['auto'] = await registerCa(autoCa, 'auto', true)
  cas['pending'] = await registerCa(pendingCa, 'auto', false)
  cas['other'] = await registerCa(otherCa, 'manual')
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

/** What `openssl s_client` prints of one handshake with the listener on `port`. */
async function sClient (port: number, ...args: string[]): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args],
      { timeout: 10_000 }, (err, out) => { if (err !== null) reject(err); else resolve(out) })
    child.stdin?.end() // s_client closes the connection at the end of its input
  })
}

/** The CA names the server's CertificateRequest listed, as s_client prints them (one per line). */
function acceptableCaNames (stdout: string): string[] {
  if (stdout.includes('No client certificate CA names sent')) return []
  const listed = /Acceptable client certificate CA names\n((?:.+\n)*?)(?:Requested Signature|Client Certificate Types|Shared Requested|Peer signing)/.exec(stdout)
  if (listed === null) throw new Error(`s_client printed neither CA names nor their absence:\n${stdout}`)
  return listed[1]!.trim().split('\n')
}

describe('the MQTTS listener', () => {
  it('presents its certificate followed by the built-in CA, and nothing more', async () => {
    const stdout = await sClient(certmq.mqttsPort, '-showcerts')
    const sent = [...stdout.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]))
    expect(sent.map((c) => c.subject)).toEqual(['CN=localhost', new X509Certificate(certmq.serverCaPem).subject])
    expect(sent[0]!.checkIssued(sent[1]!)).toBe(true)
  })

  it('names no CA in its CertificateRequest by default, and every registered CA with mqtts.advertiseCas, following registrations', async () => {
    const leaf = await pki.leaf('hint-default', fleet, { cn: 'hint-default' })
    expect(acceptableCaNames(await sClient(certmq.mqttsPort, '-cert', leaf.certPath, '-key', leaf.keyPath))).toEqual([])
    // the device sends its certificate all the same and is decided by the registry
    await registerCert(leaf, cas['fleet']!.id)
    expect(await codeOf(leaf)).toBe(0)

    const advertising = await startCertmq({ CERTMQ_MQTTS_ADVERTISE_CAS: 'true' })
    try {
      const named = async (): Promise<boolean> => acceptableCaNames(await sClient(advertising.mqttsPort)).some((name) => name.includes('CN = fleet'))
      // the built-in CA is registered from the start; the fleet's is not yet
      expect(acceptableCaNames(await sClient(advertising.mqttsPort))).toEqual([expect.stringContaining('certmq built-in CA')])
      const ca = await advertising.api<CaBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'auto' })
      expect(ca.status).toBe(201)
      // a CA registered while running is named from the next handshake on; a deactivated one no more
      await waitFor(named)
      const { code, client } = await connectDevice(advertising.mqttsPort, advertising.serverCaPem, creds(leaf))
      await endClient(client)
      expect(code).toBe(0)
      expect((await advertising.api('POST', `/api/v1/cas/${ca.body.id}/deactivate`)).status).toBe(200)
      await waitFor(async () => !(await named()))
    } finally {
      await advertising.stop()
    }
  })

  it('serves the operator\'s own certificate (mqtts.certFile / keyFile), and its start-up line names it instead of the built-in CA', async () => {
    const serverCa = await pki.ca('own-server-ca')
    const own = await pki.leaf('own-server', serverCa, { cn: 'localhost', eku: 'serverAuth', san: ['DNS:localhost', 'IP:127.0.0.1'] })
    const custom = await startCertmq({ CERTMQ_MQTTS_CERT_FILE: own.certPath, CERTMQ_MQTTS_KEY_FILE: own.keyPath })
    try {
      const ca = await custom.api<CaBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'auto' })
      expect(ca.status).toBe(201)
      const leaf = await pki.leaf('own-server-dev', fleet, { cn: 'own-server-dev' })
      // the device verifies the server against the operator's CA, not the built-in one
      const { code, client } = await connectDevice(custom.mqttsPort, serverCa.pem, creds(leaf))
      await endClient(client)
      expect(code).toBe(0)
      const refused = await connectDevice(custom.mqttsPort, custom.serverCaPem, creds(leaf), { timeoutMs: 3000 })
      expect(refused.code, 'the built-in CA did not issue this server certificate').toBe(-1)
      const started = custom.logs.events('server.started')[0]!
      expect(started['serverCertificate']).toBe(own.certPath)
      expect(started['caCertificate']).toBeUndefined()
      expect(started.msg).toContain(`server certificate from ${own.certPath}`)
    } finally {
      await custom.stop()
    }
  })
})

describe('§1.1–1.3 the CONNECT decision', () => {
  it('admits a manually registered EC P-256 device with CONNACK 0', async () => {
    const leaf = await pki.leaf('ec-dev', fleet, { cn: 'ec-dev', key: 'ec' })
    await registerCert(leaf, cas['fleet']!.id)
    expect(await codeOf(leaf)).toBe(0)
  })

  it('admits a manually registered RSA 4096 device', async () => {
    const leaf = await pki.leaf('rsa-dev', fleet, { cn: 'rsa-dev', key: 'rsa4096' })
    await registerCert(leaf, cas['fleet']!.id)
    expect(await codeOf(leaf)).toBe(0)
  })

  it('rejects a connection without a client certificate with CONNACK 5 and reason no_certificate', async () => {
    expect(await codeOf({})).toBe(5)
    expect(lastRejection()).toBe('no_certificate')
  })

  it('rejects a certificate from an unregistered CA with CONNACK 5 and reason unknown_ca', async () => {
    const stranger = await pki.ca('stranger')
    const leaf = await pki.leaf('stranger-dev', stranger, { cn: 'stranger-dev' })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('unknown_ca')
  })

  it('rejects a self-signed client certificate with reason unknown_ca', async () => {
    const self = await pki.selfSigned('self', 'self-dev')
    expect(await codeOf({ certPem: self.pem, keyPem: self.keyPem })).toBe(5)
    expect(lastRejection()).toBe('unknown_ca')
  })

  it('rejects an expired certificate with CONNACK 5 and reason expired; registering it is refused (CERT_EXPIRED)', async () => {
    const leaf = await pki.leaf('expired', fleet, { cn: 'expired', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') })
    const refused = await certmq.api<ErrorBody>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: leaf.pem })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 'CERT_EXPIRED', message: expect.stringContaining('expired on 2021-01-01') })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('expired')
    // an auto CA does not register it either
    const auto = await pki.leaf('expired-auto', await caOf('auto'), { cn: 'expired-auto', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') })
    expect(await codeOf(auto)).toBe(5)
    expect(lastRejection()).toBe('expired')
  })

  it('rejects a certificate not yet valid with CONNACK 5 and reason not_yet_valid', async () => {
    const leaf = await pki.leaf('future', fleet, { cn: 'future', notBefore: new Date(Date.now() + 86_400_000 * 30), notAfter: new Date(Date.now() + 86_400_000 * 400) })
    await registerCert(leaf, cas['fleet']!.id)
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('not_yet_valid')
  })

  it('refuses to register a certificate that is not for TLS client authentication (CERT_NOT_CLIENT)', async () => {
    for (const [name, opts] of [['reg-server-only', { eku: 'serverAuth' }], ['reg-no-digsig', { keyUsage: 'keyCertSign' }]] as const) {
      const leaf = await pki.leaf(name, fleet, { cn: name, ...opts })
      const refused = await certmq.api<ErrorBody>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: leaf.pem })
      expect(refused.status, name).toBe(400)
      expect(refused.body.error.code, name).toBe('CERT_NOT_CLIENT')
    }
  })

  it('rejects a server-only certificate (EKU serverAuth) with reason not_client_cert', async () => {
    const leaf = await pki.leaf('server-only', await caOf('auto'), { cn: 'server-only', eku: 'serverAuth' })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('not_client_cert')
  })

  it('rejects a certificate whose keyUsage lacks digitalSignature with reason not_client_cert', async () => {
    const leaf = await pki.leaf('no-digsig', await caOf('auto'), { cn: 'no-digsig', keyUsage: 'keyCertSign' })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('not_client_cert')
  })

  it('accepts a leaf without EKU and keyUsage, as OpenSSL does', async () => {
    const leaf = await pki.leaf('no-eku', await caOf('auto'), { cn: 'no-eku', eku: 'none', keyUsage: 'none' })
    expect(await codeOf(leaf)).toBe(0)
  })

  it('rejects an unregistered certificate under a manual CA with reason unregistered', async () => {
    const leaf = await pki.leaf('unregistered', fleet, { cn: 'unregistered' })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('unregistered')
  })

  it('registers manually a device issued by an intermediate when its chain is given (chainPem), and admits it', async () => {
    const intermediate = await pki.intermediate('fleet-int', fleet)
    const leaf = await pki.leaf('via-fleet-int', intermediate, { cn: 'via-fleet-int' })
    const without = await certmq.api<{ error: { code: string, message: string } }>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: leaf.pem })
    expect(without.status).toBe(400)
    expect(without.body.error.code).toBe('CERT_WRONG_ISSUER')
    // an unrelated CA in the chain does not make the path
    const stranger = await pki.intermediate('stranger-int', await caOf('other'))
    const wrong = await certmq.api<{ error: { code: string } }>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: leaf.pem, chainPem: stranger.pem })
    expect(wrong.body.error.code).toBe('CERT_WRONG_ISSUER')
    const bad = await certmq.api<{ error: { code: string, message: string } }>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: leaf.pem, chainPem: 'not pem' })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'PEM_INVALID', message: expect.stringMatching(/^chainPem: /) })

    const cert = await registerCert(leaf, cas['fleet']!.id, { chainPem: intermediate.pem })
    expect(cert).toMatchObject({ caId: cas['fleet']!.id, source: 'manual', status: 'active', commonName: 'via-fleet-int' })
    // registered: the device needs to send only its own certificate
    expect(await codeOf(leaf), lastRejection()).toBe(0)
    // the path is remembered: a CRL of the CA that revokes the intermediate refuses the device
    const crl = await pki.crl('fleet-int-crl', fleet, { revoked: [intermediate], lastUpdate: new Date(Date.now() - 60_000) })
    expect((await certmq.api('POST', `/api/v1/cas/${cas['fleet']!.id}/crl`, { crlPem: crl.pem })).status).toBe(200)
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('revoked')
  })

  it('rejects a certificate registered inactive with reason inactive, and admits it once activated', async () => {
    const leaf = await pki.leaf('inactive', fleet, { cn: 'inactive' })
    const cert = await registerCert(leaf, cas['fleet']!.id, { activate: false })
    expect(cert.status).toBe('inactive')
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('inactive')
    expect((await certmq.api('POST', `/api/v1/certificates/${cert.id}/activate`)).status).toBe(200)
    expect(await codeOf(leaf)).toBe(0)
  })

  it('rejects under a deactivated CA with reason ca_inactive and admits again after activation', async () => {
    const leaf = await pki.leaf('other-dev', await caOf('other'), { cn: 'other-dev' })
    await registerCert(leaf, cas['other']!.id)
    expect(await codeOf(leaf)).toBe(0)
    expect((await certmq.api('POST', `/api/v1/cas/${cas['other']!.id}/deactivate`)).status).toBe(200)
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('ca_inactive')
    expect((await certmq.api('POST', `/api/v1/cas/${cas['other']!.id}/activate`)).status).toBe(200)
    expect(await codeOf(leaf)).toBe(0)
  })

  it('rejects a revoked certificate with CONNACK 5 and reason revoked, also after it is deleted under an auto CA', async () => {
    const leaf = await pki.leaf('revoked', await caOf('auto'), { cn: 'revoked' })
    expect(await codeOf(leaf)).toBe(0)
    const { body: list } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=revoked')
    const id = list.items[0]!.id
    expect((await certmq.api('POST', `/api/v1/certificates/${id}/revoke`, { confirm: true })).status).toBe(200)
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('revoked')
    expect((await certmq.api('DELETE', `/api/v1/certificates/${id}`)).status).toBe(200)
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('revoked')
    expect((await certmq.api('GET', `/api/v1/certificates/${id}`)).status).toBe(404)
  })
})

describe('§1.3 automatic registration', () => {
  it('auto-registers a new certificate under an auto CA as active with source auto', async () => {
    const leaf = await pki.leaf('auto-1', await caOf('auto'), { cn: 'auto-1', ou: 'trucks' })
    expect(await codeOf(leaf)).toBe(0)
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=auto-1')
    expect(body.items).toHaveLength(1)
    expect(body.items[0]).toMatchObject({ status: 'active', source: 'auto', caId: cas['auto']!.id })
  })

  it('refuses an MQTT 5 CONNECT with CONNACK 1 before deciding anything: nothing registered, nothing counted as accepted', async () => {
    const leaf = await pki.leaf('mqtt5-1', await caOf('auto'), { cn: 'mqtt5-1' })
    const session = await RawMqttSession.open(certmq.mqttsPort, certmq.serverCaPem, creds(leaf))
    session.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'mqtt5-1', clean: true, keepalive: 60 })
    expect(await session.next('connack')).toMatchObject({ returnCode: 1 })
    session.close()
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=mqtt5-1')
    expect(body.items).toHaveLength(0)
    expect(certmq.logs.events('connect.accepted').filter((l) => l['clientId'] === 'mqtt5-1')).toHaveLength(0)
    expect(certmq.logs.events('connect.rejected').at(-1)).toMatchObject({ reason: 'unsupported_protocol', returnCode: 1 })
    // the same device over MQTT 3.1.1 is registered as usual
    expect(await codeOf(leaf)).toBe(0)
  })

  it('auto-registers as pending_activation when the CA says so, rejects until an operator activates it', async () => {
    const leaf = await pki.leaf('pending-1', await caOf('pending'), { cn: 'pending-1' })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('pending_activation')
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=pending-1')
    expect(body.items[0]).toMatchObject({ status: 'pending_activation', source: 'auto' })
    expect(await codeOf(leaf)).toBe(5)
    expect((await certmq.api('POST', `/api/v1/certificates/${body.items[0]!.id}/activate`)).status).toBe(200)
    expect(await codeOf(leaf)).toBe(0)
  })

  it('registers once when two first connects of the same new certificate race', async () => {
    const leaf = await pki.leaf('race', await caOf('auto'), { cn: 'race' })
    const results = await Promise.all([
      connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(leaf), { clientId: 'race-a' }),
      connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(leaf), { clientId: 'race-b' })
    ])
    expect(results.map((r) => r.code)).toEqual([0, 0])
    await Promise.all(results.map(async (r) => { await endClient(r.client) }))
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=race')
    expect(body.items).toHaveLength(1)
    const accepted = certmq.logs.events('connect.accepted').filter((l) => l['fingerprint'] === body.items[0]!.id)
    expect(accepted.filter((l) => l['autoRegistered'] === true)).toHaveLength(1)
  })

  it('admits a device that sends its intermediate CA, chaining to the registered root', async () => {
    const autoRoot = await caOf('auto')
    const intermediate = await pki.intermediate('auto-int', autoRoot)
    const leaf = await pki.leaf('via-int', intermediate, { cn: 'via-int' })
    const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { chainPem: await readFile(leaf.chainPath, 'utf8'), keyPem: leaf.keyPem })
    await endClient(client)
    expect(code, lastRejection()).toBe(0)
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=via-int')
    expect(body.items[0]).toMatchObject({ caId: cas['auto']!.id, source: 'auto' })
  })

  it('rejects a new device whose intermediate has expired or is not yet valid (the whole chain is checked, not only the leaf)', async () => {
    const day = 86_400_000
    const expired = await pki.intermediate('auto-int-expired', await caOf('auto'), { notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) })
    const early = await pki.intermediate('auto-int-early', await caOf('auto'), { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 30 * day) })
    for (const [intermediate, reason] of [[expired, 'expired'], [early, 'not_yet_valid']] as const) {
      const leaf = await pki.leaf(`${intermediate.name}-leaf`, intermediate, { cn: `${intermediate.name}-leaf` })
      const own = new X509Certificate(leaf.pem)
      expect(Date.parse(own.validFrom) <= Date.now() && Date.parse(own.validTo) > Date.now(), 'the leaf itself is valid now').toBe(true)
      const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { chainPem: await readFile(leaf.chainPath, 'utf8'), keyPem: leaf.keyPem })
      await endClient(client)
      expect(code, reason).toBe(5)
      expect(lastRejection()).toBe(reason)
      const { body } = await certmq.api<{ items: CertBody[] }>('GET', `/api/v1/certificates?commonName=${intermediate.name}-leaf`)
      expect(body.items, 'not registered').toHaveLength(0)
    }
  })

  it('lets an intermediate registered as a CA later govern the devices registered through it before (deactivate, CRL)', async () => {
    const intermediate = await pki.intermediate('governing-int', await caOf('auto'))
    const leaf = await pki.leaf('governed-dev', intermediate, { cn: 'governed-dev' })
    const chainPem = await readFile(leaf.chainPath, 'utf8')
    const first = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { chainPem, keyPem: leaf.keyPem })
    expect(first.code, lastRejection()).toBe(0)
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', '/api/v1/certificates?commonName=governed-dev')
    expect(body.items[0]).toMatchObject({ caId: cas['auto']!.id })
    // the operator now registers the intermediate to control it directly
    const intermediateCa = await registerCa(intermediate, 'manual')
    expect((await certmq.api('POST', `/api/v1/cas/${intermediateCa.id}/deactivate`)).status).toBe(200)
    // its live session is dropped as under a deactivated CA
    await waitFor(() => certmq.logs.events('session.dropped').find((e) => e['clientId'] === 'governed-dev' && e['reason'] === 'ca_inactive'),
      { what: 'the live session dropped' })
    first.client?.end(true)
    expect(await codeOf({ certPem: leaf.pem, keyPem: leaf.keyPem })).toBe(5)
    expect(lastRejection()).toBe('ca_inactive')

    // active again, with a CRL of its own that lists the device
    expect((await certmq.api('POST', `/api/v1/cas/${intermediateCa.id}/activate`)).status).toBe(200)
    expect(await codeOf({ certPem: leaf.pem, keyPem: leaf.keyPem }), lastRejection()).toBe(0)
    const crl = await pki.crl('governing-int-crl', intermediate, { revoked: [leaf] })
    expect((await certmq.api('POST', `/api/v1/cas/${intermediateCa.id}/crl`, { crlPem: crl.pem })).status).toBe(200)
    expect(await codeOf({ certPem: leaf.pem, keyPem: leaf.keyPem })).toBe(5)
    expect(lastRejection()).toBe('revoked')
  })

  it('rejects a device under an intermediate it does not send with reason unknown_ca', async () => {
    const intermediate = await pki.intermediate('auto-int2', await caOf('auto'))
    const leaf = await pki.leaf('no-chain', intermediate, { cn: 'no-chain' })
    expect(await codeOf(leaf)).toBe(5)
    expect(lastRejection()).toBe('unknown_ca')
  })
})

describe('§1.1 the path to the CA follows RFC 5280 where the chain walk alone would not', () => {
  async function connectWithChain (leaf: OpenSslLeaf): Promise<number> {
    const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { chainPem: await readFile(leaf.chainPath, 'utf8'), keyPem: leaf.keyPem })
    await endClient(client)
    return code
  }

  async function registered (commonName: string): Promise<number> {
    const { body } = await certmq.api<{ items: CertBody[] }>('GET', `/api/v1/certificates?commonName=${commonName}`)
    return body.items.length
  }

  it('honours a pathLenConstraint: pathlen:0 admits no intermediate below the CA, pathlen:1 admits one', async () => {
    const tight = await pki.ca('pathlen0', { pathLen: 0 })
    const loose = await pki.ca('pathlen1', { pathLen: 1 })
    const [tightCa] = [await registerCa(tight, 'auto'), await registerCa(loose, 'auto')]
    const under = async (root: OpenSslCa, name: string): Promise<OpenSslLeaf> => await pki.leaf(name, await pki.intermediate(`${name}-int`, root), { cn: name })
    const refused = await under(tight, 'via-pathlen0')
    expect(await connectWithChain(refused)).toBe(5)
    expect(lastRejection()).toBe('invalid_chain')
    expect(certmq.logs.events('connect.rejected').at(-1)?.['detail']).toMatch(/pathLenConstraint 0/)
    expect(await registered('via-pathlen0'), 'not auto-registered').toBe(0)
    const manual = await certmq.api<ErrorBody>('POST', '/api/v1/certificates',
      { caId: tightCa.id, certificatePem: refused.pem, chainPem: await readFile(refused.chainPath, 'utf8') })
    expect(manual.status).toBe(400)
    expect(manual.body.error.code).toBe('CERT_CHAIN_INVALID')
    // the same shape under pathlen:1 is fine
    expect(await connectWithChain(await under(loose, 'via-pathlen1')), lastRejection()).toBe(0)
  })

  it('refuses a CA with name constraints at registration, and a path through an intermediate that carries them', async () => {
    const constrained = await pki.ca('named-root', { extensions: ['nameConstraints = critical, permitted;dirName:dir_sect', '[dir_sect]', 'O = Allowed'] })
    const refused = await certmq.api<ErrorBody>('POST', '/api/v1/cas', { certificatePem: constrained.pem, registrationMode: 'auto' })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 'CA_UNSUPPORTED', message: expect.stringContaining('name constraints') })
    // registered roots (from beforeAll) with a constrained intermediate below: the device is not admitted
    const intermediate = await pki.intermediate('named-int', await caOf('auto'), { extensions: ['nameConstraints = critical, permitted;DNS:allowed.example'] })
    const leaf = await pki.leaf('via-named-int', intermediate, { cn: 'via-named-int' })
    expect(await connectWithChain(leaf)).toBe(5)
    expect(lastRejection()).toBe('invalid_chain')
    expect(await registered('via-named-int')).toBe(0)
  })

  it('refuses a certificate with a critical extension certmq does not process, and an intermediate not for clientAuth', async () => {
    const odd = await pki.leaf('critical-unknown', await caOf('auto'), { cn: 'critical-unknown', extensions: ['1.2.3.4.5.6.7 = critical, ASN1:NULL'] })
    expect(await codeOf(odd)).toBe(5)
    expect(lastRejection()).toBe('invalid_chain')
    expect(await registered('critical-unknown')).toBe(0)
    const manual = await certmq.api<ErrorBody>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: (await pki.leaf('critical-unknown-m', fleet, { cn: 'critical-unknown-m', extensions: ['1.2.3.4.5.6.7 = critical, ASN1:NULL'] })).pem })
    expect(manual.body.error?.code).toBe('CERT_CHAIN_INVALID')
    const serverOnly = await pki.intermediate('server-only-int', await caOf('auto'), { extensions: ['extendedKeyUsage = serverAuth'] })
    expect(await connectWithChain(await pki.leaf('via-server-only-int', serverOnly, { cn: 'via-server-only-int' }))).toBe(5)
    expect(lastRejection()).toBe('invalid_chain')
    // a critical CRL distribution point restricts nothing: OpenSSL takes it, so does certmq
    const withCrlDp = await pki.leaf('critical-crldp', await caOf('auto'), { cn: 'critical-crldp', extensions: ['crlDistributionPoints = critical, URI:http://crl.example/fleet.crl'] })
    expect(await codeOf(withCrlDp), lastRejection()).toBe(0)
    // the same extension, not critical, is ignored as RFC 5280 allows
    const tolerated = await pki.leaf('noncritical-unknown', await caOf('auto'), { cn: 'noncritical-unknown', extensions: ['1.2.3.4.5.6.7 = ASN1:NULL'] })
    expect(await codeOf(tolerated), lastRejection()).toBe(0)
  })
})

describe('§2 a CA\'s settings changed at run time', () => {
  it('stops automatic registration under a CA (mode manual) without dropping its live devices, and starts it again pending activation', async () => {
    const root = await pki.ca('switched')
    const ca = await registerCa(root, 'auto')
    const first = await pki.leaf('switched-1', root, { cn: 'switched-1' })
    const live = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(first))
    expect(live.code, lastRejection()).toBe(0)
    expect((await certmq.api('PATCH', `/api/v1/cas/${ca.id}`, { registrationMode: 'manual' })).status).toBe(200)
    // a new device is refused as under any manual CA, once the change has reached the trust store
    const second = await pki.leaf('switched-2', root, { cn: 'switched-2' })
    await waitFor(async () => await codeOf(second) === 5 && lastRejection() === 'unregistered', { what: 'switched-2 refused as unregistered' })
    // the device registered before is still connected (a subscription round trip), and admitted again
    expect(certmq.logs.events('session.dropped').filter((e) => e['clientId'] === 'switched-1')).toHaveLength(0)
    await live.client!.subscribeAsync('fleet/switched-1/#')
    await endClient(live.client)
    expect(await codeOf(first), lastRejection()).toBe(0)

    expect((await certmq.api('PATCH', `/api/v1/cas/${ca.id}`, { registrationMode: 'auto', autoActivate: false })).status).toBe(200)
    await waitFor(async () => await codeOf(second) === 5 && lastRejection() === 'pending_activation', { what: 'switched-2 registered pending activation' })
  })
})

describe('§1.4–1.5 client ID and associated clients', () => {
  it('uses the CONNECT client ID, else the registered Client ID, else the CN, and records each', async () => {
    const withId = await pki.leaf('cid-registered', fleet, { cn: 'cn-registered' })
    const cert = await registerCert(withId, cas['fleet']!.id, { clientId: 'car-0001' })
    const cnOnly = await pki.leaf('cid-cn', fleet, { cn: 'cn-only-0002' })
    const cnCert = await registerCert(cnOnly, cas['fleet']!.id)

    expect(await codeOf(withId, 'explicit-id')).toBe(0)
    expect(await codeOf(withId)).toBe(0)
    expect(await codeOf(cnOnly)).toBe(0)

    const ids = certmq.logs.events('connect.accepted').map((l) => l['clientId'])
    expect(ids).toEqual(expect.arrayContaining(['explicit-id', 'car-0001', 'cn-only-0002']))
    const details = await waitFor(async () => {
      const { body } = await certmq.api<CertBody>('GET', `/api/v1/certificates/${cert.id}`)
      return (body.associatedClients ?? []).length >= 2 ? body : undefined
    }, { what: 'associated clients' })
    expect(details.associatedClients!.map((c) => c.clientId).sort()).toEqual(['car-0001', 'explicit-id'])
    expect(details.associatedClients![0]!.remoteAddress).toMatch(/127\.0\.0\.1/)
    const cn = await certmq.api<CertBody>('GET', `/api/v1/certificates/${cnCert.id}`)
    expect(cn.body.associatedClients!.map((c) => c.clientId)).toEqual(['cn-only-0002'])
  })

  it('accepts an empty client ID with clean=false (raw CONNECT bytes) and keeps its persistent session', async () => {
    const leaf = await pki.leaf('persistent', fleet, { cn: 'persistent-cn' })
    await registerCert(leaf, cas['fleet']!.id, { clientId: 'persistent-car' })
    const first = await RawMqttSession.open(certmq.mqttsPort, certmq.serverCaPem, creds(leaf))
    first.sendConnect('', false)
    expect(await first.next('connack')).toMatchObject({ returnCode: 0, sessionPresent: false })
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fleet/persistent-car/cmd', qos: 1 }] })
    await first.next('suback')
    first.send({ cmd: 'disconnect' })
    first.close()

    // a publisher sends a command while the device is away
    const publisherLeaf = await pki.leaf('publisher', fleet, { cn: 'publisher' })
    await registerCert(publisherLeaf, cas['fleet']!.id)
    const { client: publisher } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(publisherLeaf))
    await publisher!.publishAsync('fleet/persistent-car/cmd', 'unlock', { qos: 1 })
    await endClient(publisher)

    const second = await RawMqttSession.open(certmq.mqttsPort, certmq.serverCaPem, creds(leaf))
    second.sendConnect('', false)
    expect(await second.next('connack')).toMatchObject({ returnCode: 0, sessionPresent: true })
    const delivered = await second.next('publish')
    expect(delivered).toMatchObject({ topic: 'fleet/persistent-car/cmd' })
    expect(String((delivered as { payload: Buffer }).payload)).toBe('unlock')
    second.close()
    expect(certmq.logs.events('connect.accepted').filter((l) => l['clientId'] === 'persistent-car')).toHaveLength(2)
  })

  it('refuses an MQTT 3.1 CONNECT whose client ID, resolved from the certificate, is over 23 characters with CONNACK 2 and reason client_id_mismatch', async () => {
    const long = await pki.leaf('mqtt31-long', fleet, { cn: 'mqtt31-common-name-of-30-chars' })
    const longCert = await registerCert(long, cas['fleet']!.id)
    const short = await pki.leaf('mqtt31-short', fleet, { cn: 'mqtt31-short' })
    await registerCert(short, cas['fleet']!.id)
    const connack31 = async (leaf: OpenSslLeaf): Promise<unknown> => {
      const session = await RawMqttSession.open(certmq.mqttsPort, certmq.serverCaPem, creds(leaf))
      try {
        // raw bytes: mqtt-packet will not encode an empty MQTT 3.1 client ID, which aedes takes
        const variable = Buffer.from([0x00, 0x06, ...Buffer.from('MQIsdp'), 0x03, 0x02, 0x00, 0x1e, 0x00, 0x00])
        session.socket.write(Buffer.concat([Buffer.from([0x10, variable.length]), variable]))
        return await session.next('connack')
      } finally {
        session.close()
      }
    }
    // MQTT 3.1 §3.1 carries 1–23 characters: the broker refuses a longer ID, and the log says so
    expect(await connack31(long)).toMatchObject({ returnCode: 2 })
    expect(certmq.logs.events('connect.rejected').at(-1)).toMatchObject({ reason: 'client_id_mismatch', returnCode: 2, fingerprint: longCert.id })
    expect(certmq.logs.events('connect.accepted').filter((l) => l['fingerprint'] === longCert.id)).toEqual([])
    expect(await connack31(short)).toMatchObject({ returnCode: 0 })
    expect(certmq.logs.events('connect.accepted').at(-1)).toMatchObject({ clientId: 'mqtt31-short' })
  })

  it('refuses another certificate\'s registered Client ID with CONNACK 2, leaving the owner\'s session alone', async () => {
    const owner = await pki.leaf('owner', fleet, { cn: 'owner-cn' })
    const ownerCert = await registerCert(owner, cas['fleet']!.id, { clientId: 'owned-car' })
    const other = await pki.leaf('would-be-owner', fleet, { cn: 'would-be-cn' })
    const otherCert = await registerCert(other, cas['fleet']!.id)
    const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(owner))
    expect(code).toBe(0)
    let ownerClosed = false
    client!.once('close', () => { ownerClosed = true })
    try {
      // aedes would close the owner and hand its session to the newcomer
      expect(await codeOf(other, 'owned-car')).toBe(2)
      expect(certmq.logs.events('connect.rejected').at(-1)).toMatchObject({ reason: 'client_id_mismatch', returnCode: 2, clientId: 'owned-car', fingerprint: otherCert.id })
      // a round trip on the owner's connection after the refusal: it is still served
      await client!.subscribeAsync('fleet/owned-car/cmd', { qos: 1 })
      expect(ownerClosed).toBe(false)
      expect(client!.connected).toBe(true)
    } finally {
      // forced, not awaited: endAsync never settles for a client the broker dropped
      client?.end(true)
    }
    // its own CN, or an ID nobody registered, is still its choice outside strict mode
    expect(await codeOf(other, 'free-id')).toBe(0)
    // and the owner may use its own registered Client ID explicitly
    expect(await codeOf(owner, 'owned-car')).toBe(0)
    expect(ownerCert.id).not.toBe(otherCert.id)
  })

  it('refuses a second certificate with the same Client ID (CLIENT_ID_TAKEN)', async () => {
    const a = await pki.leaf('dup-a', fleet, { cn: 'dup-a' })
    const b = await pki.leaf('dup-b', fleet, { cn: 'dup-b' })
    await registerCert(a, cas['fleet']!.id, { clientId: 'shared-id' })
    const res = await certmq.api<{ error: { code: string } }>('POST', '/api/v1/certificates', { caId: cas['fleet']!.id, certificatePem: b.pem, clientId: 'shared-id' })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('CLIENT_ID_TAKEN')
  })
})

describe('§1.4 strict client-ID mode (CERTMQ_CLIENT_ID_STRICT=true)', () => {
  let strict: TestCertmq
  let strictCaId = ''
  beforeAll(async () => {
    strict = await startCertmq({ CERTMQ_CLIENT_ID_STRICT: 'true' })
    const ca = await strict.api<CaBody>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual' })
    expect(ca.status).toBe(201)
    strictCaId = ca.body.id
  })
  afterAll(async () => { await strict?.stop() })

  async function strictCode (leaf: OpenSslLeaf, clientId: string): Promise<number> {
    const { code, client } = await connectDevice(strict.mqttsPort, strict.serverCaPem, creds(leaf), { clientId })
    await endClient(client)
    return code
  }

  it('admits the registered Client ID, the CN and an empty ID; refuses any other ID with CONNACK 2 and reason client_id_mismatch', async () => {
    const leaf = await pki.leaf('strict-dev', fleet, { cn: 'strict-cn' })
    const res = await strict.api<CertBody>('POST', '/api/v1/certificates', { caId: strictCaId, certificatePem: leaf.pem, clientId: 'strict-car' })
    expect(res.status).toBe(201)
    expect(await strictCode(leaf, 'strict-car')).toBe(0)
    expect(await strictCode(leaf, 'strict-cn')).toBe(0)
    expect(await strictCode(leaf, '')).toBe(0)
    expect(await strictCode(leaf, 'someone-else')).toBe(2)
    const refused = strict.logs.events('connect.rejected')
    expect(refused).toHaveLength(1)
    expect(refused[0]).toMatchObject({ reason: 'client_id_mismatch', returnCode: 2, clientId: 'someone-else', fingerprint: res.body.id })
    expect(strict.logs.events('connect.accepted').map((l) => l['clientId'])).toEqual(['strict-car', 'strict-cn', 'strict-car'])
  })

  it('refuses a CN that is another certificate\'s registered Client ID, sent or resolved from an empty ID', async () => {
    const owner = await pki.leaf('strict-owner', fleet, { cn: 'strict-owner-cn' })
    expect((await strict.api('POST', '/api/v1/certificates', { caId: strictCaId, certificatePem: owner.pem, clientId: 'strict-taken' })).status).toBe(201)
    // a device whose CN is that Client ID: strict mode alone would admit its CN
    const namesake = await pki.leaf('strict-namesake', fleet, { cn: 'strict-taken' })
    expect((await strict.api('POST', '/api/v1/certificates', { caId: strictCaId, certificatePem: namesake.pem })).status).toBe(201)
    expect(await strictCode(namesake, 'strict-taken')).toBe(2)
    expect(await strictCode(namesake, '')).toBe(2)
    expect(await strictCode(owner, '')).toBe(0)
  })

  it('is off by default: the same foreign ID is admitted', async () => {
    const leaf = await pki.leaf('lenient-dev', fleet, { cn: 'lenient-cn' })
    await registerCert(leaf, cas['fleet']!.id, { clientId: 'lenient-car' })
    expect(await codeOf(leaf, 'someone-else-2')).toBe(0)
  })
})

describe('§1 decisions take effect at once', () => {
  async function liveSubscriber (name: string, ca: 'fleet' | 'other'): Promise<{ cert: CertBody; closed: Promise<number> }> {
    const issuer = ca === 'fleet' ? fleet : await caOf('other')
    const leaf = await pki.leaf(name, issuer, { cn: name })
    const cert = await registerCert(leaf, cas[ca]!.id)
    const { code, client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(leaf))
    expect(code).toBe(0)
    await client!.subscribeAsync(`fleet/${name}/#`)
    const closed = new Promise<number>((resolve) => { client!.once('close', () => { resolve(performance.now()) }) })
    return { cert, closed }
  }

  it.each(['deactivate', 'revoke'] as const)('%s drops a live subscriber within one second', async (action) => {
    const { cert, closed } = await liveSubscriber(`live-${action}`, 'fleet')
    const started = performance.now()
    const res = await certmq.api('POST', `/api/v1/certificates/${cert.id}/${action}`, action === 'revoke' ? { confirm: true } : undefined)
    expect(res.status).toBe(200)
    const at = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => { resolve(Number.POSITIVE_INFINITY) }, 2000))])
    expect(at - started).toBeLessThan(1000)
  })

  it('deactivating the CA drops a live subscriber within one second', async () => {
    const { closed } = await liveSubscriber('live-ca', 'other')
    const started = performance.now()
    expect((await certmq.api('POST', `/api/v1/cas/${cas['other']!.id}/deactivate`)).status).toBe(200)
    const at = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => { resolve(Number.POSITIVE_INFINITY) }, 2000))])
    expect(at - started).toBeLessThan(1000)
    expect((await certmq.api('POST', `/api/v1/cas/${cas['other']!.id}/activate`)).status).toBe(200)
  })

  it('trusts a CA registered at run time without dropping live sessions', async () => {
    const leaf = await pki.leaf('steady', fleet, { cn: 'steady' })
    await registerCert(leaf, cas['fleet']!.id)
    const { client } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, creds(leaf))
    let closed = false
    client!.once('close', () => { closed = true })
    const late = await pki.ca('late')
    await registerCa(late, 'auto')
    const lateLeaf = await pki.leaf('late-dev', late, { cn: 'late-dev' })
    expect(await codeOf(lateLeaf)).toBe(0)
    await client!.publishAsync('fleet/steady/telemetry', 'still here', { qos: 1 })
    expect(closed).toBe(false)
    await endClient(client)
  })
})

describe('logs', () => {
  it('never contain PEM text or the admin token', () => {
    expect(certmq.logs.raw.length).toBeGreaterThan(10)
    for (const line of certmq.logs.raw) {
      expect(line).not.toContain('-----BEGIN')
      expect(line).not.toContain(certmq.token)
    }
  })
})

async function caOf (name: string): Promise<OpenSslCa> {
  const ca = caByName.get(name)
  if (ca === undefined) throw new Error(`no test CA ${name}`)
  return ca
}
