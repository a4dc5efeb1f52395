/**
 * The bench's brokers (scripts/bench/targets.ts): whatever fails after one has started, the bench
 * stops it, so no broker outlives `npm run bench`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlainAedes, withTargets, type Target } from '../../scripts/bench/targets.js'
import { OpenSslPki, type OpenSslCert } from '../helpers/openssl.js'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('bench targets', () => {
  let pki: OpenSslPki
  let server: OpenSslCert

  beforeAll(async () => {
    pki = await OpenSslPki.create()
    server = await pki.selfSigned('bench-server', 'localhost')
  })
  afterAll(async () => { await pki.cleanup() })

  it('stops the brokers already started when a later start fails', async () => {
    let plain: Target | undefined
    await expect(withTargets(async (start) => {
      plain = await start(startPlainAedes({ certFile: server.certPath, keyFile: server.keyPath, clientCaFiles: [] }))
      expect(alive(plain.pid)).toBe(true)
      // the next broker does not come up (mosquitto not listening, a baseline that does not build, …)
      await start(Promise.reject(new Error('the next broker did not start')))
    })).rejects.toThrow('the next broker did not start')
    expect(plain).toBeDefined()
    expect(alive(plain!.pid)).toBe(false)
  })

  it('stops them after the measurements too, and hands back what the body returned', async () => {
    let pid = 0
    const result = await withTargets(async (start) => {
      pid = (await start(startPlainAedes({ certFile: server.certPath, keyFile: server.keyPath, clientCaFiles: [] }))).pid
      return 'report'
    })
    expect(result).toBe('report')
    expect(alive(pid)).toBe(false)
  })
})
