/**
 * The brokers the suite measures, each started here on free ports, pinned to CPU 0 when
 * possible: certmq (the built bin/certmq.js in node started as bin/certmq starts it), a plain Aedes TLS server
 * with no certificate logic, and Mosquitto when installed (`require_certificate true`,
 * `use_identity_as_username true`). All use the same server certificate.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, openSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect } from 'node:net'
import { freePort, hasCommand, pinned, ROOT, sleep, TOKEN } from './lib.js'
import { within } from '../../src/timers.js'

export interface Target {
  /** 'certmq baseline': another checkout's build, for before/after comparisons (--baseline) */
  name: 'certmq' | 'certmq baseline' | 'plain aedes' | 'mosquitto'
  pid: number
  port: number
  /** certmq only */
  adminUrl?: string
  stop: () => Promise<void>
}

export const mosquittoInstalled = (): boolean => hasCommand('mosquitto', ['-h'])

/**
 * Runs `body` with the targets it starts through `start`, and stops every one of them at the end:
 * also when a later start, a registration or a measurement fails, or the bench is stopped with
 * SIGINT or SIGTERM, so that no broker outlives the bench.
 */
export async function withTargets<T> (body: (start: (starting: Promise<Target>) => Promise<Target>) => Promise<T>): Promise<T> {
  const started: Target[] = []
  const stopAll = async (): Promise<void> => {
    for (const target of started.splice(0)) await target.stop().catch(() => {})
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // then die of the same signal, as the bench would have without this handler
    void stopAll().finally(() => { process.kill(process.pid, signal) })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await body(async (starting) => {
      const target = await starting
      started.push(target)
      return target
    })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await stopAll()
  }
}

function track (child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    if (!await within(exited.then(() => true), 5000, false)) child.kill('SIGKILL')
    // killed or not, it is gone before the next one starts
    await exited
  }
}

async function waitForPort (port: number, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { resolve(false) })
    })
    if (open) return
    await sleep(100)
  }
  throw new Error(`${name} did not listen on ${port}`)
}

/**
 * node's OpenSSL flag as bin/certmq gives it: the checkout's bin/openssl.cnf (one TLS session
 * ticket per handshake) when it has one (a baseline from before 2026-11-29 has none), and none
 * when the caller's OPENSSL_CONF is in charge. The bench starts node itself rather than
 * bin/certmq, since NODE_OPTIONS, bin/certmq's one way to take node flags, refuses most V8 flags.
 */
export function opensslArgs (root: string): string[] {
  const file = join(root, 'bin/openssl.cnf')
  return existsSync(file) && (process.env['OPENSSL_CONF'] ?? '') === '' ? [`--openssl-config=${file}`] : []
}

/** certmq as built in `root` (this checkout by default), with its own data dir and log under `work`. */
export async function startCertmq (work: string, extraEnv: Record<string, string> = {}, nodeArgs: string[] = [],
  root = ROOT, name: 'certmq' | 'certmq baseline' = 'certmq'): Promise<Target> {
  const [port, adminPort] = [await freePort(), await freePort()]
  const [command, args] = pinned(process.execPath, [...opensslArgs(root), ...nodeArgs, join(root, 'bin/certmq.js'), 'serve'])
  const child = spawn(command, args, {
    cwd: work,
    env: {
      ...process.env,
      CERTMQ_DATA_DIR: join(work, 'data'),
      CERTMQ_MQTTS_HOST: '127.0.0.1',
      CERTMQ_MQTTS_PORT: String(port),
      CERTMQ_ADMIN_PORT: String(adminPort),
      CERTMQ_ADMIN_TOKEN: TOKEN,
      ...extraEnv
    },
    // logs to a file, as under a service manager: the driver does not spend CPU reading them
    stdio: ['ignore', openSync(join(work, 'certmq.log'), 'a'), 'inherit']
  })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const stop = track(child)
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${join(work, 'certmq.log')}`)
      try {
        if ((await fetch(`${adminUrl}/healthz`)).status === 200) break
      } catch { /* not up yet */ }
      if (i > 300) throw new Error(`${name} did not become healthy`)
      await sleep(100)
    }
  } catch (err) {
    // one that never became healthy is still running
    await stop()
    throw err
  }
  return { name, pid: child.pid!, port, adminUrl, stop }
}

/** Server certificate and key files, and the CA files whose certificates clients present. */
export interface TlsFiles { certFile: string, keyFile: string, clientCaFiles: string[] }

/**
 * Plain Aedes with certmq's TLS settings, its OpenSSL ones (bin/openssl.cnf) included, so that the
 * ratio is the cost of certmq's certificate logic. `nodeArgs`: node flags for it too (e.g.
 * --cpu-prof, to compare profiles; a later --openssl-config replaces certmq's).
 */
export async function startPlainAedes (tls: TlsFiles, nodeArgs: string[] = []): Promise<Target> {
  const [command, args] = pinned(process.execPath, [...opensslArgs(ROOT), ...nodeArgs,
    join(ROOT, 'scripts/plain-aedes-tls.mjs'), tls.certFile, tls.keyFile, ...tls.clientCaFiles])
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const stop = track(child)
  let timer: NodeJS.Timeout | undefined
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const match = /"port":(\d+)/.exec(buffered)
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', (code) => { reject(new Error(`plain aedes exited with ${String(code)}`)) })
    timer = setTimeout(() => { reject(new Error('plain aedes did not listen within 30 s')) }, 30_000)
  }).catch(async (err: unknown) => {
    await stop()
    throw err
  }).finally(() => { clearTimeout(timer) })
  child.stdout!.resume()
  return { name: 'plain aedes', pid: child.pid!, port, stop }
}

export async function startMosquitto (work: string, tls: TlsFiles): Promise<Target> {
  const port = await freePort()
  const caFile = join(work, 'mosquitto-clients-ca.pem')
  await writeFile(caFile, (await Promise.all(tls.clientCaFiles.map(async (f) => await readFile(f, 'utf8')))).join('\n'))
  const conf = join(work, 'mosquitto.conf')
  await writeFile(conf, [
    `listener ${port} 127.0.0.1`,
    `cafile ${caFile}`,
    `certfile ${tls.certFile}`,
    `keyfile ${tls.keyFile}`,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous true',
    'persistence false',
    // like certmq's listener and the baseline: CONNACKs and messages are not held back by Nagle
    'set_tcp_nodelay true',
    'log_dest none',
    // as root, mosquitto would switch to the mosquitto user, which cannot read this 0700 directory
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    ''
  ].join('\n'))
  const [command, args] = pinned('mosquitto', ['-c', conf])
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const stop = track(child)
  await waitForPort(port, child, 'mosquitto').catch(async (err: unknown) => {
    await stop()
    throw err
  })
  return { name: 'mosquitto', pid: child.pid!, port, stop }
}
