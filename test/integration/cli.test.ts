/**
 * The `certmq` CLI as a real child process (PRODUCT §5) against an admin API listening on
 * 127.0.0.1 port 0, backed by real services over the embedded store.
 */
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestAdmin, type TestAdmin } from '../helpers/admin-app.js'
import { fingerprintOf, type OpenSslCa, type OpenSslCert, type OpenSslPki } from '../helpers/openssl.js'
import { runCertmqCli, runCertmqCliIntoClosedPipe, runCertmqCliWithStdin, type CliRun } from '../helpers/cli.js'

const TOKEN = 'cli-test-token-0123456789abcdef'

let admin: TestAdmin
let pki: OpenSslPki
let adminUrl: string
let ca: OpenSslCa
let device: OpenSslCert

/** Runs `certmq …` as its own process; the admin URL and token come from the environment. */
async function certmq (args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return await runCertmqCli(args, adminUrl, TOKEN, env)
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

beforeAll(async () => {
  admin = await startTestAdmin({ name: 'cli', token: TOKEN, events: true })
  pki = admin.pki
  adminUrl = await admin.listen()
  ca = await pki.ca('cli-root', { cn: 'CLI Root CA' })
  device = await pki.leaf('cli-dev1', ca, { cn: 'dev1' })
})

afterAll(async () => {
  await admin?.close()
})

describe('§5 certmq CLI against the admin API', () => {
  it('registers a CA from a PEM file, then `ca list --json` prints the API JSON with it', async () => {
    const registered = await certmq(['ca', 'register', ca.certPath, '--mode', 'auto', '--no-auto-activate', '--description', 'from the CLI'])
    expect(registered.stderr).toBe('')
    expect(registered.code).toBe(0)
    expect(registered.stdout).toContain(`registered CA ${fingerprintOf(ca.pem)}`)

    const listed = await certmq(['ca', 'list', '--json'])
    expect(listed.code).toBe(0)
    const body = JSON.parse(listed.stdout) as { items: Array<Record<string, unknown>> }
    expect(body.items).toEqual([expect.objectContaining({
      id: fingerprintOf(ca.pem), registrationMode: 'auto', autoActivate: false, description: 'from the CLI', status: 'active'
    })])
  })

  it('reads the PEM from standard input when the file is -', async () => {
    const other = await pki.ca('cli-stdin-root', { cn: 'CLI Stdin Root CA' })
    const run = await runCertmqCliWithStdin(['ca', 'register', '-', '--mode', 'manual'], adminUrl, TOKEN, other.pem)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`registered CA ${fingerprintOf(other.pem)}`)
    const twice = await runCertmqCliWithStdin(['ca', 'register', '-', '--mode', 'manual', '--verification-cert', '-'], adminUrl, TOKEN, other.pem)
    expect(twice.code).toBe(2)
    expect(twice.stderr).toContain('standard input (-) can be read only once')
    // the other tests count the CAs
    const removed = await fetch(`${adminUrl}/api/v1/cas/${fingerprintOf(other.pem)}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(removed.status).toBe(200)
  })

  it('registers a device certificate and shows it in the `cert list` table; --url wins over CERTMQ_ADMIN_URL', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`
    const registered = await certmq(['--url', adminUrl, 'cert', 'register', device.certPath, '--ca', fingerprintOf(ca.pem), '--client-id', 'car-7'],
      { CERTMQ_ADMIN_URL: nowhere })
    expect(registered.code, registered.stderr).toBe(0)
    expect(registered.stdout).toContain(`registered certificate ${fingerprintOf(device.pem)}`)

    const listed = await certmq(['cert', 'list', '--ca', fingerprintOf(ca.pem)])
    expect(listed.code, listed.stderr).toBe(0)
    const lines = listed.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+COMMON NAME\s+CLIENT ID\s+SOURCE\s+SERIAL\s+NOT AFTER$/)
    expect(lines[1]).toMatch(new RegExp(`^${fingerprintOf(device.pem)}\\s+active\\s+dev1\\s+car-7\\s+manual\\s+[0-9A-F]+\\s+\\d{4}-\\d{2}-\\d{2}$`))
  })

  it('prints `error CERT_NOT_FOUND: …` on stderr and exits 1 for an unknown certificate', async () => {
    const run = await certmq(['cert', 'show', 'ab'.repeat(32)])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error CERT_NOT_FOUND: .*abab/m)
    expect(run.stdout).toBe('')
  })

  it('shows a certificate with its associated clients', async () => {
    const id = fingerprintOf(device.pem)
    const at = new Date().toISOString()
    await admin.store.recordClientConnected(id, { clientId: 'car-7', connected: true, remoteAddress: '10.1.2.3', node: 'node-a', connectedAt: at, lastSeenAt: at })
    const run = await certmq(['cert', 'show', id])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^Status:\s+active$/m)
    expect(run.stdout).toMatch(/^Client ID:\s+car-7$/m)
    expect(run.stdout).toMatch(/^Associated clients:\nCLIENT ID\s+CONNECTED\s+LAST SEEN\s+REMOTE ADDRESS\s+NODE\s+CONNECTED AT\ncar-7\s+yes\s+.*10\.1\.2\.3\s+node-a/m)
  })

  it('exits 1 with UNAUTHORIZED for a wrong token', async () => {
    const run = await certmq(['ca', 'list', '--token', 'wrong-token'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error UNAUTHORIZED: /m)
  })

  it('refuses `cert revoke` without --yes as a usage error (exit 2) and revokes with it', async () => {
    const id = fingerprintOf(device.pem)
    const refused = await certmq(['cert', 'revoke', id])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^error CONFIRMATION_REQUIRED: .*irreversible.*--yes/m)
    const revoked = await certmq(['cert', 'revoke', id, '--yes', '--json'])
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id, status: 'revoked' })
  })

  it('takes CERTMQ_ADMIN_URL as the banner prints it, ending in /api/v1 with or without a slash', async () => {
    for (const url of [`${adminUrl}/api/v1`, `${adminUrl}/api/v1/`]) {
      const run = await certmq(['ca', 'list', '--json'], { CERTMQ_ADMIN_URL: url })
      expect(run.code, `${url}: ${run.stderr}`).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ items: [expect.objectContaining({ id: fingerprintOf(ca.pem) })] })
    }
  })

  it('exits 3 with ADMIN_UNREACHABLE naming the URL when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const run = await certmq(['ca', 'list'], { CERTMQ_ADMIN_URL: url })
    expect(run.code).toBe(3)
    expect(run.stderr).toContain(`error ADMIN_UNREACHABLE: cannot reach the admin API at ${url}`)
  })

  it('exits 3 with ADMIN_UNREACHABLE, not 13 in silence, when the server closes every connection at once (a port forward with nothing behind)', async () => {
    // Node 20's fetch can stay pending for good on such a server; the call must still end in the timeout
    const closer = createServer((socket) => { socket.end() })
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closer.address() as AddressInfo).port}`
    try {
      for (let i = 0; i < 4; i++) {
        const run = await certmq(['--timeout', '2', 'ca', 'list'], { CERTMQ_ADMIN_URL: url })
        expect(run.code, run.stderr).toBe(3)
        expect(run.stderr).toContain(`error ADMIN_UNREACHABLE: cannot reach the admin API at ${url}`)
      }
    } finally {
      await new Promise<void>((resolve) => closer.close(() => { resolve() }))
    }
  })

  it('refuses a token with a line break as a usage error (exit 2) without printing it', async () => {
    const run = await certmq(['ca', 'list'], { CERTMQ_ADMIN_TOKEN: 'secret-part-one\nsecret-part-two' })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error VALIDATION_FAILED: the admin token')
    expect(run.stderr).not.toContain('secret-part')
    // a token read from a file keeps its final newline: that one is fine
    expect((await certmq(['ca', 'list'], { CERTMQ_ADMIN_TOKEN: `${TOKEN}\n` })).code).toBe(0)
    const timeout = await certmq(['ca', 'list'], { CERTMQ_ADMIN_TIMEOUT: 'soon' })
    expect(timeout.code).toBe(2)
    expect(timeout.stderr).toContain('CERTMQ_ADMIN_TIMEOUT')
  })

  it('changes a CA\'s settings with `ca update`, and refuses an update that changes nothing given (exit 2)', async () => {
    const id = fingerprintOf(ca.pem)
    const run = await certmq(['ca', 'update', id, '--mode', 'manual', '--auto-activate', '--description', 'paused'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`updated CA ${id}`)
    const shown = await certmq(['--json', 'ca', 'show', id])
    expect(JSON.parse(shown.stdout)).toMatchObject({ registrationMode: 'manual', autoActivate: true, description: 'paused' })
    const nothing = await certmq(['ca', 'update', id])
    expect(nothing.code).toBe(2)
    expect(nothing.stderr).toContain('nothing to change')
    // back as the first test registered it, for the tests that look at it
    expect((await certmq(['ca', 'update', id, '--mode', 'auto', '--no-auto-activate', '--description', 'from the CLI'])).code).toBe(0)
  })

  it('exits 2 with a usage error naming the path when the PEM file does not exist', async () => {
    const missing = join(admin.dataDir, 'no-such.pem')
    const run = await certmq(['ca', 'register', missing, '--mode', 'manual'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`cannot read PEM file ${missing}: no such file`)
  })

  it('exits 2 with a usage error naming an unknown --status, as it does for --source, without asking the API', async () => {
    const run = await certmq(['cert', 'list', '--status', 'active,bogus'], { CERTMQ_ADMIN_URL: `http://127.0.0.1:${await closedPort()}` })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error VALIDATION_FAILED: --status bogus: not a certificate status (one of active, inactive, pending_activation, revoked)')
    const limit = await certmq(['cert', 'list', '--limit', '501'], { CERTMQ_ADMIN_URL: `http://127.0.0.1:${await closedPort()}` })
    expect(limit.code).toBe(2)
    expect(limit.stderr).toContain('--limit')
  })

  it('lists events newest first with `events --type … --since …`, as a table and as the API JSON', async () => {
    const id = fingerprintOf(device.pem)
    const table = await certmq(['events', '--type', 'certificate.registered', '--type', 'certificate.revoked', '--since', '1h'])
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TIME\s+TYPE\s+ACTOR\s+TARGET\s+REASON\s+COUNT\s+DETAILS$/)
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2} [\\d:]+Z\\s+certificate\\.revoked\\s+admin\\s+certificate ${id}\\s+-\\s+-\\s+.*from=active to=revoked`))
    expect(lines[2]).toMatch(/certificate\.registered\s+admin\s+.*source=manual/)
    expect(lines).toHaveLength(3)

    // certificate events only: other tests of this file change CAs
    const json = await certmq(['events', '--type', 'certificate.registered,certificate.revoked', '--limit', '1', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const page = JSON.parse(json.stdout) as { items: Array<{ type: string }>, nextCursor: string | null }
    expect(page.items.map((e) => e.type)).toEqual(['certificate.revoked'])
    expect(page.nextCursor).not.toBeNull()
    const next = await certmq(['events', '--type', 'certificate.registered,certificate.revoked', '--limit', '1', '--cursor', page.nextCursor as string, '--json'])
    expect((JSON.parse(next.stdout) as { items: Array<{ type: string }> }).items.map((e) => e.type)).toEqual(['certificate.registered'])

    const future = await certmq(['events', '--since', new Date(Date.now() + 3_600_000).toISOString()])
    expect(future.stdout).toBe('no events match\n')
  })

  it('refuses `events --limit` beyond what the API takes as a usage error (exit 2), as `cert list` does', async () => {
    const run = await certmq(['events', '--limit', '501'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('must be a whole number from 1 to 500')
  })

  it('refuses an admin URL with a user name or password, and prints neither', async () => {
    const run = await certmq(['ca', 'list'], { CERTMQ_ADMIN_URL: adminUrl.replace('http://', 'http://ops:s3cret-pass@') })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error VALIDATION_FAILED: the admin URL holds a user name or password')
    expect(run.stderr).not.toContain('s3cret-pass')
  })

  it('refuses `events --type` with an unknown type as the API does (exit 1, VALIDATION_FAILED naming type)', async () => {
    const run = await certmq(['events', '--type', 'cert.revoked'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error VALIDATION_FAILED: querystring\/type: "cert.revoked" is not an event type/m)
  })

  it('`cert list` searches with --cn, --status (repeated or comma list), --expiring, --sort/--order, shows the total, and --all follows nextCursor', async () => {
    const caId = fingerprintOf(ca.pem)
    const inDays = (days: number): Date => new Date(Date.now() + days * 86_400_000)
    const made: Record<string, string> = {}
    for (const [cn, days, activate] of [['CL0001', 10, true], ['CL0002', 20, true], ['CL0003', 60, true], ['CL0004', 5, false]] as const) {
      const leaf = await pki.leaf(`cli-${cn}`, ca, { cn, ou: 'cli', notBefore: new Date(Date.now() - 60_000), notAfter: inDays(days) })
      const res = await admin.call<{ id: string }>('POST', '/api/v1/certificates', { caId, certificatePem: leaf.pem, activate })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      made[cn] = res.body.id
    }

    const table = await certmq(['cert', 'list', '--cn', 'CL*', '--status', 'active', '--expiring', '30', '--sort', 'notAfter', '--order', 'desc'])
    expect(table.code, table.stderr).toBe(0)
    const rows = table.stdout.trimEnd().split('\n')
    expect(rows.slice(1, 3).map((row) => row.split(/\s+/)[2])).toEqual(['CL0002', 'CL0001'])
    expect(rows[3]).toBe('2 shown, 2 match')

    const json = await certmq(['cert', 'list', '--cn', 'CL*', '--status', 'inactive', '--status', 'active,pending_activation', '--ou', 'cli',
      '--not-after-to', inDays(30).toISOString(), '--sort', 'commonName', '--limit', '2', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const body = JSON.parse(json.stdout) as { items: Array<{ commonName: string }>, nextCursor: string | null, total: number }
    expect(body.items.map((c) => c.commonName)).toEqual(['CL0001', 'CL0002'])
    expect(body).toMatchObject({ total: 3, nextCursor: expect.any(String) })

    const all = await certmq(['cert', 'list', '--cn', 'CL*', '--sort', 'createdAt', '--limit', '1', '--all', '--json'])
    expect(all.code, all.stderr).toBe(0)
    const everything = JSON.parse(all.stdout) as { items: Array<{ id: string }>, nextCursor: string | null, total: number }
    expect(everything.items.map((c) => c.id)).toEqual(['CL0001', 'CL0002', 'CL0003', 'CL0004'].map((cn) => made[cn]))
    expect(everything).toMatchObject({ nextCursor: null, total: 4 })

    const expired = await certmq(['cert', 'list', '--cn', 'CL*', '--expired'])
    expect(expired.code, expired.stderr).toBe(0)
    expect(expired.stdout).toBe('no certificates match\n')

    const bad = await certmq(['cert', 'list', '--not-after-from', 'next-week'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^error VALIDATION_FAILED: querystring\/notAfterFrom: /m)
  })

  it('exits 0 without a stack trace when the reader of stdout has gone away (`certmq cert list --all | head`)', async () => {
    const run = await runCertmqCliIntoClosedPipe(['cert', 'list', '--all', '--json'], { CERTMQ_ADMIN_URL: adminUrl, CERTMQ_ADMIN_TOKEN: TOKEN })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
  })

  it('keeps the exit code of a command that had already failed when stdout turns out closed', async () => {
    const run = await runCertmqCliIntoClosedPipe(['cert', 'show', 'ab'.repeat(32), '--json'], { CERTMQ_ADMIN_URL: adminUrl, CERTMQ_ADMIN_TOKEN: TOKEN })
    expect(run.stderr).toMatch(/^error CERT_NOT_FOUND: [^\n]*\n$/)
    expect(run.code).toBe(1)
  })

  it('documents the exit codes in --help', async () => {
    const run = await certmq(['--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 .*\n\s+3 /)
  })

  it('exits 0 without a stack trace when `certmq --help` is piped into a reader that has gone away (`| head -5`)', async () => {
    const run = await runCertmqCliIntoClosedPipe(['--help'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
  })

  // last: the events test above counts the registrations made before it
  it('registers a device issued by an intermediate with --chain <pem-file>', async () => {
    const intermediate = await pki.intermediate('cli-int', ca)
    const leaf = await pki.leaf('cli-via-int', intermediate, { cn: 'cli-via-int' })
    const refused = await certmq(['cert', 'register', leaf.certPath, '--ca', fingerprintOf(ca.pem)])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^error CERT_WRONG_ISSUER: /m)
    const registered = await certmq(['cert', 'register', leaf.certPath, '--ca', fingerprintOf(ca.pem), '--chain', intermediate.certPath, '--json'])
    expect(registered.code, registered.stderr).toBe(0)
    expect(JSON.parse(registered.stdout)).toMatchObject({ id: fingerprintOf(leaf.pem), commonName: 'cli-via-int', caId: fingerprintOf(ca.pem) })
  })
})
