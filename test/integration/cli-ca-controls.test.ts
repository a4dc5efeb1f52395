/**
 * `certmq ca` commands for the CA controls of PRODUCT §2 (registration code, proof of
 * possession, host binding, CRL import) as a real child process against an admin API on
 * 127.0.0.1 port 0, backed by real services over the embedded store.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../src/admin/app.js'
import { AdminTokens } from '../../src/admin/admin-tokens.js'
import { createLogger } from '../../src/log.js'
import { CaService } from '../../src/registry/ca-service.js'
import { CertificateService } from '../../src/registry/certificate-service.js'
import { EmbeddedRegistryStore } from '../../src/store/embedded/embedded-registry-store.js'
import { LocalStatusBus } from '../../src/store/local-status-bus.js'
import { LogSink } from '../helpers/log-sink.js'
import { fingerprintOf, OpenSslPki, type OpenSslCa } from '../helpers/openssl.js'
import { runCertmqCli, type CliRun } from '../helpers/cli.js'

const TOKEN = 'cli-test-token-0123456789abcdef'

let pki: OpenSslPki
let dataDir: string
let store: EmbeddedRegistryStore
let bus: LocalStatusBus
let app: FastifyInstance
let adminUrl: string
let ca: OpenSslCa

/** Runs `certmq …` as its own process; the admin URL and token come from the environment. */
async function certmq (args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return await runCertmqCli(args, adminUrl, TOKEN, env)
}

beforeAll(async () => {
  pki = await OpenSslPki.create()
  dataDir = await mkdtemp(join(tmpdir(), 'certmq-cli-ca-'))
  store = new EmbeddedRegistryStore({ path: join(dataDir, 'registry') })
  await store.open()
  bus = new LocalStatusBus()
  const now = (): Date => new Date()
  app = buildAdminApp({
    caService: new CaService({ store, bus, maxCas: 50, now }),
    certificateService: new CertificateService({ store, bus, now }),
    auth: await AdminTokens.load(store, TOKEN, now),
    health: () => ({ mqtts: true, admin: true }),
    logger: createLogger('info', new LogSink())
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  adminUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  ca = await pki.ca('cli-root', { cn: 'CLI Root CA' })
})

afterAll(async () => {
  await app?.close()
  await store?.close()
  await bus?.close()
  await pki?.cleanup()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

describe('§2 certmq ca: CA controls from the CLI', () => {
  it('registers a CA with proof of possession and a host binding, then shows both', async () => {
    const code = await certmq(['ca', 'registration-code'])
    expect(code.code, code.stderr).toBe(0)
    const registrationCode = code.stdout.trim()
    expect(registrationCode).toMatch(/^[0-9a-f]{48}$/)
    const verification = await pki.leaf('cli-verify', ca, { cn: registrationCode })
    const registered = await certmq(['ca', 'register', ca.certPath, '--mode', 'manual', '--verification-cert', verification.certPath, '--host', 'Fleet-A.example', 'fleet-b.example'])
    expect(registered.code, registered.stderr).toBe(0)
    const id = fingerprintOf(ca.pem)
    expect(registered.stdout).toContain(id)
    expect(registered.stdout).toContain('fleet-a.example, fleet-b.example')
    const hosts = await certmq(['ca', 'hosts', id, '--json'])
    expect(JSON.parse(hosts.stdout)).toEqual({ caId: id, hosts: ['fleet-a.example', 'fleet-b.example'] })
  })

  it('refuses a wrong verification certificate with exit code 1 and the error code on stderr', async () => {
    const other = await pki.ca('cli-other')
    const wrong = await pki.leaf('cli-wrong-verify', other, { cn: 'not-the-code' })
    const run = await certmq(['ca', 'register', other.certPath, '--mode', 'manual', '--verification-cert', wrong.certPath])
    expect(run.code).not.toBe(0)
    expect(run.stderr).toContain('CA_VERIFICATION_FAILED')
  })

  it('sets, clears and validates the host binding', async () => {
    const id = fingerprintOf(ca.pem)
    const set = await certmq(['ca', 'hosts', id, '--set', 'plant-7.example'])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout.trim()).toBe('plant-7.example')
    const bad = await certmq(['ca', 'hosts', id, '--set', 'not_a_host'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('VALIDATION_FAILED')
    const cleared = await certmq(['ca', 'hosts', id, '--clear'])
    expect(cleared.stdout).toContain('unbound')
  })

  it('imports a DER CRL file and shows its state and PEM', async () => {
    const id = fingerprintOf(ca.pem)
    const revoked = await pki.leaf('cli-revoked', ca, { cn: 'cli-revoked' })
    const crl = await pki.crl('cli-crl', ca, { revoked: [revoked] })
    const imported = await certmq(['ca', 'crl', 'import', id, crl.derPath])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toMatch(/Revoked serials:\s+1\n/)
    const shown = await certmq(['ca', 'crl', 'show', id, '--pem'])
    expect(shown.stdout).toBe(crl.pem)
  })
})
