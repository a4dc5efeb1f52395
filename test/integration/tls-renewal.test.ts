/**
 * The generated MQTTS certificate is renewed while the broker runs (docs/operations.md): a broker
 * left running for a year must not serve an expired certificate. The broker's clock is moved
 * forward so its certificate is within 30 days of expiry; a check every 100 ms renews it. (The
 * new certificate is issued for a year of real time, so the test puts the clock back at once.)
 */
import { X509Certificate } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, type PeerCertificate } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.js'
import { startServer } from '../../src/server.js'
import { localConfig } from '../helpers/certmq.js'
import { createCaCertificate } from '../../src/pki/certificate-authority.js'
import { LogSink } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

const DAY_MS = 86_400_000
const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

/** The certificate the server presents to a new handshake, verified against the built-in CA. */
async function served (port: number, caPem: string): Promise<{ fingerprint: string, validTo: string, authorized: boolean }> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: caPem, rejectUnauthorized: false }, () => {
      const peer: PeerCertificate = socket.getPeerCertificate()
      resolve({ fingerprint: peer.fingerprint256, validTo: peer.valid_to, authorized: socket.authorized })
      socket.destroy()
    })
    socket.once('error', reject)
  })
}

describe('the generated MQTTS certificate', () => {
  it('is renewed in place once it is within 30 days of expiry, without a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'certmq-tls-renewal-'))
    dirs.push(dataDir)
    const config = localConfig(dataDir, { CERTMQ_ADMIN_TOKEN: 'renewal-test-token-0123456789' })
    let offsetMs = 0
    const logs = new LogSink()
    const server = await startServer(config, { logger: createLogger('info', logs), now: () => new Date(Date.now() + offsetMs), tlsRenewalCheckMs: 100 })
    try {
      const caPem = await readFile(server.caCertificatePath, 'utf8')
      const first = await served(server.mqtts.port, caPem)
      expect(first.authorized).toBe(true)
      // checked several times while it is fresh: nothing happens
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(logs.events('tls.renewed')).toHaveLength(0)
      expect((await served(server.mqtts.port, caPem)).fingerprint).toBe(first.fingerprint)

      // 340 days later it has under 30 days left
      offsetMs = 340 * DAY_MS
      await waitFor(() => logs.events('tls.renewed').length >= 1 ? true : undefined, { what: 'tls.renewed' })
      // the new certificate is issued for a year of real time: with the clock back it is fresh,
      // and once a renewal in flight has settled nothing more changes
      offsetMs = 0
      // settled: no renewal for several checks in a row
      let seen = -1
      await waitFor(() => {
        const count = logs.events('tls.renewed').length
        const settled = count === seen
        seen = count
        return settled
      }, { intervalMs: 500, timeoutMs: 10_000, what: 'renewals to stop' })
      const second = await served(server.mqtts.port, caPem)
      expect(second.fingerprint).not.toBe(first.fingerprint)
      expect(second.authorized).toBe(true)
      // and it is the one on disk, so a restart keeps it
      const onDisk = new X509Certificate(await readFile(join(dataDir, 'tls', 'server.pem'), 'utf8'))
      expect(onDisk.fingerprint256).toBe(second.fingerprint)
    } finally {
      await server.stop()
    }
  })

  it('warns from a year before the built-in CA ends, and issues nothing that outlives it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'certmq-tls-renewal-'))
    dirs.push(dataDir)
    // a deployment whose built-in CA has 100 days left
    const old = await createCaCertificate({ commonName: 'certmq built-in CA (ending)', validityDays: 100, keyAlgorithm: 'EC-P256' })
    await mkdir(join(dataDir, 'ca'), { recursive: true, mode: 0o700 })
    await writeFile(join(dataDir, 'ca', 'builtin-ca.pem'), old.certificatePem)
    await writeFile(join(dataDir, 'ca', 'builtin-ca.key'), old.privateKeyPem, { mode: 0o600 })
    const config = localConfig(dataDir, { CERTMQ_ADMIN_TOKEN: 'renewal-test-token-0123456789' })
    const logs = new LogSink()
    const server = await startServer(config, { logger: createLogger('info', logs) })
    try {
      expect(logs.events('ca.builtin_expiring')).toEqual([expect.objectContaining({ daysLeft: 99, certificate: join(dataDir, 'ca', 'builtin-ca.pem') })])
      const served = new X509Certificate(await readFile(join(dataDir, 'tls', 'server.pem'), 'utf8'))
      expect(Date.parse(served.validTo)).toBeLessThanOrEqual(Date.parse(new X509Certificate(old.certificatePem).validTo))
    } finally {
      await server.stop()
    }
  })
})
