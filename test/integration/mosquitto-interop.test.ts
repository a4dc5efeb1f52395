/**
 * The README's "connect a first device" flow with real Mosquitto clients: openssl-made
 * certificates (EC prime256v1 and RSA 4096), the CA registered in auto mode, mosquitto_pub over
 * TLS, mosquitto_sub refused for a device of an unknown CA.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenSslPki, type OpenSslCa } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { connectDevice, endClient } from '../helpers/mqtt.js'

const run = promisify(execFile)

async function hasCommand (name: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${name}`])
    return true
  } catch {
    return false
  }
}

const available = await hasCommand('mosquitto_pub') && await hasCommand('mosquitto_sub')
// never skipped under CI: .ci/run installs mosquitto-clients
const skipReason = !available && process.env['CI'] === undefined ? 'mosquitto_pub/mosquitto_sub not installed (apt-get install mosquitto-clients)' : undefined

describe.skipIf(skipReason !== undefined)(`interop with mosquitto clients${skipReason === undefined ? '' : ` — skipped: ${skipReason}`}`, () => {
  let pki: OpenSslPki
  let ca: OpenSslCa
  let certmq: TestCertmq
  let serverCaFile: string

  beforeAll(async () => {
    pki = await OpenSslPki.create()
    ca = await pki.ca('mosquitto-fleet')
    certmq = await startCertmq()
    serverCaFile = pki.path('certmq-server-ca.pem')
    await writeFile(serverCaFile, certmq.serverCaPem)
    const res = await certmq.api('POST', '/api/v1/cas', { certificatePem: ca.pem, registrationMode: 'auto' })
    expect(res.status).toBe(201)
  })

  afterAll(async () => {
    await certmq?.stop()
    await pki?.cleanup()
  })

  it.each([['ec', 'car-ec'], ['rsa4096', 'car-rsa']] as const)('mosquitto_pub with a %s device certificate publishes over MQTTS', async (key, cn) => {
    const device = await pki.leaf(cn, ca, { cn, key })
    const watcherLeaf = await pki.leaf(`${cn}-watcher`, ca, { cn: `${cn}-watcher` })
    const { client: watcher } = await connectDevice(certmq.mqttsPort, certmq.serverCaPem, { certPem: watcherLeaf.pem, keyPem: watcherLeaf.keyPem })
    await watcher!.subscribeAsync(`fleet/${cn}/telemetry`, { qos: 1 })
    const received = new Promise<string>((resolve) => { watcher!.once('message', (_t, payload) => { resolve(payload.toString()) }) })

    await run('mosquitto_pub', ['-h', 'localhost', '-p', String(certmq.mqttsPort), '--cafile', serverCaFile,
      '--cert', device.certPath, '--key', device.keyPath, '-q', '1', '-t', `fleet/${cn}/telemetry`, '-m', '{"speed":42}'])
    expect(await received).toBe('{"speed":42}')
    await endClient(watcher)
    const { body } = await certmq.api<{ items: Array<{ source: string; keyType: string }> }>('GET', `/api/v1/certificates?commonName=${cn}`)
    expect(body.items[0]).toMatchObject({ source: 'auto', keyType: key === 'ec' ? 'EC P-256' : 'RSA 4096' })
  })

  it('mosquitto_sub with a certificate of an unknown CA is refused: not authorised', async () => {
    const stranger = await pki.ca('mosquitto-stranger')
    const device = await pki.leaf('stranger-car', stranger, { cn: 'stranger-car' })
    const result = await run('mosquitto_sub', ['-h', 'localhost', '-p', String(certmq.mqttsPort), '--cafile', serverCaFile,
      '--cert', device.certPath, '--key', device.keyPath, '-t', 'fleet/#', '-C', '1', '-W', '5'])
      .then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }))
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/not authori[sz]ed/i)
    expect(certmq.logs.events('connect.rejected').at(-1)?.reason).toBe('unknown_ca')
  })
})
