/**
 * The admin API in its own thread (src/admin/thread/), on a whole broker: answers and errors
 * cross the thread boundary unchanged (a DER CRL body included), its request lines join the
 * broker's log, /healthz reports the broker's thread down when that thread stops answering, a
 * taken admin port fails the start with the listener's error and releases the store, and stop()
 * ends the thread.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenSslPki, type OpenSslCa } from '../helpers/openssl.js'
import { startCertmq, type TestCertmq } from '../helpers/certmq.js'
import { waitFor } from '../helpers/wait-for.js'

interface ErrorBody { error: { code: string, message: string, details: Record<string, unknown> } }

let pki: OpenSslPki
let certmq: TestCertmq
let fleet: OpenSslCa
let fleetId: string

beforeAll(async () => {
  pki = await OpenSslPki.create()
  fleet = await pki.ca('thread-fleet', { cn: 'Thread Fleet CA', o: 'Example' })
  certmq = await startCertmq()
  const ca = await certmq.api<{ id: string }>('POST', '/api/v1/cas', { certificatePem: fleet.pem, registrationMode: 'manual' })
  expect(ca.status, JSON.stringify(ca.body)).toBe(201)
  fleetId = ca.body.id
})

afterAll(async () => {
  await certmq?.stop()
  await pki?.cleanup()
})

describe('admin API thread', () => {
  it('answers records and catalog errors with their codes and details, as in one thread', async () => {
    const device = await pki.leaf('thread-dev', fleet, { cn: 'thread-dev' })
    const created = await certmq.api<{ id: string, status: string, createdAt: string }>('POST', '/api/v1/certificates', { caId: fleetId, certificatePem: device.pem })
    expect(created.status).toBe(201)
    expect(created.body.status).toBe('active')
    expect(new Date(created.body.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000)

    const missing = await certmq.api<ErrorBody>('GET', `/api/v1/certificates/${'0'.repeat(64)}`)
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('CERT_NOT_FOUND')
    const unconfirmed = await certmq.api<ErrorBody>('POST', `/api/v1/certificates/${created.body.id}/revoke`, {})
    expect(unconfirmed.status).toBe(400)
    expect(unconfirmed.body.error.code).toBe('CONFIRMATION_REQUIRED')
    const active = await certmq.api<ErrorBody>('DELETE', `/api/v1/certificates/${created.body.id}`)
    expect(active.status).toBe(409)
    expect(active.body.error).toMatchObject({ code: 'CERT_STATUS_CONFLICT' })
    expect((await certmq.api<{ items: Array<{ id: string }> }>('GET', `/api/v1/certificates?caId=${fleetId}`)).body.items.map((c) => c.id)).toEqual([created.body.id])
  })

  it('imports a DER CRL body (bytes across the thread boundary)', async () => {
    const device = await pki.leaf('thread-crl-dev', fleet, { cn: 'thread-crl-dev' })
    const crl = await pki.crl('thread-crl', fleet, { revoked: [device] })
    const res = await fetch(`${certmq.adminUrl}/api/v1/cas/${fleetId}/crl`, {
      method: 'POST', headers: { authorization: `Bearer ${certmq.token}`, 'content-type': 'application/pkix-crl' }, body: crl.der
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toMatchObject({ caId: fleetId, revokedCount: 1 })
  })

  it('writes its request lines into the broker\'s log, with the token\'s name and never the token', async () => {
    await certmq.api('GET', `/api/v1/cas/${fleetId}`)
    // written after the response went out, then handed to the broker's thread
    const line = await waitFor(() => certmq.logs.events('request.completed').find((l) => l['url'] === `/api/v1/cas/${fleetId}`))
    expect(line).toMatchObject({ module: 'admin', statusCode: 200, tokenName: 'admin', pid: process.pid })
    expect(certmq.logs.raw.join('\n')).not.toContain(certmq.token)
  })

  it('answers /healthz 503 with mqtts false while the broker\'s thread does not answer, and 200 once it does', async () => {
    expect((await fetch(`${certmq.adminUrl}/healthz`)).status).toBe(200)
    // a probe from another process asks once this (the broker's) thread is stuck, and writes its
    // answer to a file: the thread stays stuck until that answer is there, however late the
    // probe runs, so the admin thread always finds the broker's thread not answering
    const dir = await mkdtemp(join(tmpdir(), 'certmq-healthz-'))
    const go = join(dir, 'go')
    const answerFile = join(dir, 'answer')
    const probe = spawn(process.execPath, ['-e', [
      'const fs = require("node:fs")',
      `const write = (text) => { fs.writeFileSync(${JSON.stringify(`${answerFile}.part`)}, text); fs.renameSync(${JSON.stringify(`${answerFile}.part`)}, ${JSON.stringify(answerFile)}) }`,
      `const wait = setInterval(() => { if (!fs.existsSync(${JSON.stringify(go)})) return; clearInterval(wait); fetch(${JSON.stringify(`${certmq.adminUrl}/healthz`)}).then(async (r) => { write(r.status + ' ' + await r.text()) }, (err) => { write('error ' + err.message) }) }, 5)`,
      'process.stdout.write("up\\n")'
    ].join(';')], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise((resolve) => { probe.once('exit', resolve) })
    let answer: string | undefined
    try {
      await Promise.race([new Promise((resolve) => { probe.stdout.once('data', resolve) }), exited])
      writeFileSync(go, '')
      // capped, so a probe that never answers fails the test instead of hanging the worker
      const until = Date.now() + 20_000
      while (answer === undefined && Date.now() < until) {
        try { answer = readFileSync(answerFile, 'utf8') } catch { /* not yet */ }
      }
      if (answer !== undefined) await exited
    } finally {
      probe.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
    expect(answer, 'the probe did not answer within 20 s').toBeDefined()
    expect(answer).toBe('503 {"status":"unavailable","mqtts":false,"admin":true}')
    expect((await fetch(`${certmq.adminUrl}/healthz`)).status).toBe(200)
  })

  it('fails a start whose admin port is taken with the listener\'s error, and releases the store for the next start', async () => {
    const port = new URL(certmq.adminUrl).port
    const dataDir = `${certmq.dataDir}-second`
    const err = await startCertmq({ CERTMQ_ADMIN_PORT: port }, { dataDir }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'LISTEN_FAILED', details: { listener: 'admin', errno: 'EADDRINUSE' } })
    expect(String(err)).toContain(port)
    // the failed start closed its store: no lock is left behind
    const second = await startCertmq({}, { dataDir })
    expect((await fetch(`${second.adminUrl}/healthz`)).status).toBe(200)
    const url = second.adminUrl
    await second.stop()
    await rm(dataDir, { recursive: true, force: true })
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })
})
