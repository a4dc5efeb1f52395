/**
 * `certmq ca` commands for the CA controls of PRODUCT §2 (registration code, proof of
 * possession, host binding, CRL import) as a real child process against an admin API on
 * 127.0.0.1 port 0, backed by real services over the embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestAdmin, type TestAdmin } from '../helpers/admin-app.js'
import { fingerprintOf, type OpenSslCa, type OpenSslPki } from '../helpers/openssl.js'
import { runCertmqCli, type CliRun } from '../helpers/cli.js'

const TOKEN = 'cli-test-token-0123456789abcdef'

let admin: TestAdmin
let pki: OpenSslPki
let adminUrl: string
let ca: OpenSslCa

/** Runs `certmq …` as its own process; the admin URL and token come from the environment. */
async function certmq (args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return await runCertmqCli(args, adminUrl, TOKEN, env)
}

beforeAll(async () => {
  admin = await startTestAdmin({ name: 'cli-ca', token: TOKEN })
  pki = admin.pki
  adminUrl = await admin.listen()
  ca = await pki.ca('cli-root', { cn: 'CLI Root CA' })
})

afterAll(async () => {
  await admin?.close()
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
