/**
 * `certmq simulate`: rehearse a fleet (PRODUCT §5, device simulator). Makes or reuses the fleet,
 * optionally registers it with a running certmq through the admin API, runs it against any MQTTS
 * broker and prints a summary (or one JSON result with --json). Progress goes to stderr on a
 * terminal.
 */
import { isIP } from 'node:net'
import { Option, type Command } from 'commander'
import { nonNegativeInt, numberArgument, positiveInt } from '../arguments.js'
import { CertmqError } from '../../errors.js'
import { MAX_TIMER_MS } from '../../timers.js'
import type { KeyAlgorithm } from '../../pki/certificate-authority.js'
import { DEFAULT_BACKOFF } from '../../simulator/backoff.js'
import { loadOrCreateFleet, loadOrCreateMonitor, type Fleet, type FleetDevice } from '../../simulator/fleet.js'
import type { Progress } from '../../simulator/run.js'
import { CONNACK_NAMES, type SimulationSummary } from '../../simulator/stats.js'
import { AdminApiError, type AdminApiClient } from '../api-client.js'
import type { CommandContext } from '../index.js'
import type { TextSink } from '../output.js'

const KEY_TYPES: Record<string, KeyAlgorithm> = { ec: 'EC-P256', rsa2048: 'RSA-2048', rsa4096: 'RSA-4096' }
type Registration = 'none' | 'ca-auto' | 'ca-manual' | 'devices'

// Node's timers take at most MAX_TIMER_MS (24.8 days) and fire at once past that: a longer
// duration would end the run at once, a longer storm delay storm at once, a lower rate not pace
const MIN_RATE = 0.000001
const seconds = numberArgument((n) => Number.isFinite(n) && n > 0 && n * 1000 <= MAX_TIMER_MS, `must be a number above 0, at most ${Math.floor(MAX_TIMER_MS / 1000)}`)
const rate = numberArgument((n) => Number.isFinite(n) && n >= MIN_RATE, `must be a number of at least ${MIN_RATE.toFixed(6)}`)
const rateOrZero = numberArgument((n) => Number.isFinite(n) && (n === 0 || n >= MIN_RATE), `must be 0, or a number of at least ${MIN_RATE.toFixed(6)}`)
const milliseconds = numberArgument((n) => Number.isInteger(n) && n > 0 && n <= MAX_TIMER_MS, `must be a whole number above 0, at most ${MAX_TIMER_MS}`)

interface SimulateOptions {
  devices: number
  fleet: string
  org: string
  key: string
  fleetDir: string
  caCert?: string
  caKey?: string
  broker: string
  serverCa?: string
  servername?: string
  insecure: boolean
  register: Registration
  rate: number
  concurrency: number
  duration: number
  publishRate: number
  qos: string
  payload: number
  commands: boolean
  monitor: boolean
  retries: number
  storm?: number
  brokerPid?: number
  connectTimeout: number
}

export function registerSimulateCommand (program: Command, ctx: CommandContext, stderr: TextSink & { isTTY?: boolean }): void {
  program.command('simulate')
    .description('connect a simulated fleet of devices over MQTTS and report connect rate, latencies and rejections')
    .option('--devices <n>', 'number of devices', positiveInt, 100)
    .option('--fleet <name>', 'fleet name: the OU of the device subjects and the cache folder', 'sim')
    .option('--org <name>', 'O of the device subjects', 'certmq simulator')
    .addOption(new Option('--key <type>', 'device key type').choices(Object.keys(KEY_TYPES)).default('ec'))
    .option('--fleet-dir <dir>', 'where fleets are cached', '.certmq-sim')
    .option('--ca-cert <file>', 'issue devices from this CA certificate (PEM) instead of a fleet CA made here')
    .option('--ca-key <file>', 'private key of --ca-cert (PEM)')
    .option('--broker <url>', 'MQTTS broker', 'mqtts://localhost:8883')
    .option('--server-ca <file>', 'CA certificate(s) that sign the broker\'s certificate (PEM); certmq: data/ca/builtin-ca.pem')
    .option('--servername <name>', 'TLS server name (default: the broker URL\'s host)')
    .option('--insecure', 'do not verify the broker\'s certificate', false)
    .addOption(new Option('--register <how>', 'register with certmq first (admin API: --url/--token): ca-auto or ca-manual registers the fleet CA in that mode (ca-manual also the monitor, so it can connect); devices registers the CA (manual), every device and the monitor')
      .choices(['none', 'ca-auto', 'ca-manual', 'devices']).default('none'))
    .option('--rate <n>', 'first connects per second (paced)', rate, 50)
    .option('--concurrency <n>', 'connects in flight at most', positiveInt, 20)
    .option('--duration <seconds>', 'how long the run lasts', seconds, 10)
    .option('--publish-rate <n>', 'telemetry messages per second per device (0: none)', rateOrZero, 0)
    // choices() parses the value itself: an argParser added after it would replace that check
    .addOption(new Option('--qos <n>', 'QoS of telemetry and commands').choices(['0', '1', '2']).default('0'))
    .option('--payload <bytes>', 'telemetry payload size', positiveInt, 64)
    .option('--commands', 'devices subscribe to fleet/<clientId>/cmd; the monitor sends each one a command every second', false)
    .option('--no-monitor', 'no monitor client (no end-to-end latency or loss)')
    // a default of its own words: commander would print Infinity as JSON, "null"
    .addOption(new Option('--retries <n>', 'retries per device after a refusal or failure').argParser(nonNegativeInt).default(Number.POSITIVE_INFINITY, 'until the end'))
    .option('--storm <seconds>', 'drop every session at once after this many seconds (reconnect storm; before the end of --duration)', seconds)
    .option('--broker-pid <pid>', 'report this process\'s RSS (Linux): at the end of the run, before the devices disconnect, and the most seen while it ran', positiveInt)
    .option('--connect-timeout <ms>', 'CONNACK timeout per attempt', milliseconds, 10_000)
    .action(async (opts: SimulateOptions) => {
      const output = ctx.output()
      if (opts.commands && !opts.monitor) {
        throw new CertmqError('VALIDATION_FAILED', '--commands needs the monitor: it is the client that sends the commands (drop --no-monitor)', { field: 'commands' })
      }
      if (opts.storm !== undefined && opts.storm >= opts.duration) {
        throw new CertmqError('VALIDATION_FAILED', `--storm ${opts.storm} comes when the run has ended (--duration ${opts.duration}): make it shorter than the duration`, { field: 'storm' })
      }
      const broker = parseBroker(opts.broker)
      const ca = await existingCa(opts, ctx)
      const progress = (line: string): void => { if (stderr.isTTY === true && !output.json) stderr.write(`\r${line}\u001b[K`) }
      const fleet = await loadOrCreateFleet({
        dir: opts.fleetDir,
        fleet: opts.fleet,
        organization: opts.org,
        count: opts.devices,
        keyAlgorithm: KEY_TYPES[opts.key]!,
        ...(ca === undefined ? {} : { ca }),
        onProgress: (ready, total) => { progress(`fleet ${opts.fleet}: ${ready}/${total} certificates`) }
      })
      const devices = fleet.devices
      const monitor = opts.monitor ? await loadOrCreateMonitor(fleet, opts.org) : undefined
      if (opts.register !== 'none') await register(ctx.client(), fleet, opts.register, devices, monitor, progress, stderr)
      // loaded here: the MQTT client and the pacer stay out of every other command, `serve` included
      const { runSimulation } = await import('../../simulator/run.js')
      // Ctrl-C ends the run early with its summary; a second one stops at once
      const interrupted = new AbortController()
      const onInterrupt = (): void => {
        if (interrupted.signal.aborted) {
          process.off('SIGINT', onInterrupt)
          process.kill(process.pid, 'SIGINT')
          return
        }
        interrupted.abort()
        if (!output.json) stderr.write('\ninterrupted: ending the run (Ctrl-C again to stop at once)\n')
      }
      process.on('SIGINT', onInterrupt)
      const summary = await runSimulation({
        fleet,
        devices,
        ...(monitor === undefined ? {} : { monitor }),
        broker: {
          ...broker,
          // TLS sends no IP address as a server name (Node warns): an IP is checked against the certificate's IP SANs
          servername: opts.servername ?? (isIP(broker.host) === 0 ? broker.host : undefined),
          serverCaPem: opts.serverCa === undefined ? undefined : await ctx.readPemFile(opts.serverCa),
          insecure: opts.insecure,
          connectTimeoutMs: opts.connectTimeout,
          keepaliveSeconds: 60
        },
        rate: opts.rate,
        concurrency: opts.concurrency,
        durationSeconds: opts.duration,
        publishRate: opts.publishRate,
        qos: opts.qos === '2' ? 2 : opts.qos === '1' ? 1 : 0,
        payloadBytes: opts.payload,
        subscribeCommands: opts.commands,
        backoff: DEFAULT_BACKOFF,
        maxRetries: opts.retries,
        ...(opts.storm === undefined ? {} : { stormAfterSeconds: opts.storm }),
        ...(opts.brokerPid === undefined ? {} : { brokerPid: opts.brokerPid }),
        onProgress: (p) => { progress(renderProgress(p)) },
        signal: interrupted.signal
      }).finally(() => { process.off('SIGINT', onInterrupt) })
      if (stderr.isTTY === true && !output.json) stderr.write('\n')
      if (opts.brokerPid !== undefined && summary.broker === undefined) {
        stderr.write(`warning: could not read the RSS of pid ${opts.brokerPid} (/proc/${opts.brokerPid}/status): no such process here, or not Linux\n`)
      }
      output.result(summary, renderSummary)
    })
}

function parseBroker (url: string): { host: string, port: number } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CertmqError('VALIDATION_FAILED', `--broker "${url}" is not a URL (expected mqtts://host:port)`, { field: 'broker' })
  }
  if (parsed.protocol !== 'mqtts:') throw new CertmqError('VALIDATION_FAILED', `--broker must be an mqtts:// URL, found ${parsed.protocol}`, { field: 'broker' })
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port === '' ? 8883 : Number(parsed.port) }
}

async function existingCa (opts: SimulateOptions, ctx: CommandContext): Promise<{ certificatePem: string, privateKeyPem: string } | undefined> {
  if (opts.caCert === undefined && opts.caKey === undefined) return undefined
  if (opts.caCert === undefined || opts.caKey === undefined) {
    throw new CertmqError('VALIDATION_FAILED', '--ca-cert and --ca-key go together', { field: opts.caCert === undefined ? 'caCert' : 'caKey' })
  }
  return { certificatePem: await ctx.readPemFile(opts.caCert), privateKeyPem: await ctx.readPemFile(opts.caKey) }
}

/**
 * Registers the fleet CA in the chosen mode, then the certificates that mode needs: every device
 * for `devices`; under a manual CA (`ca-manual`) at least the monitor, which is the simulator's
 * own client and not a device being rehearsed, so the devices' refusals are what the run shows.
 */
async function register (client: AdminApiClient, fleet: Fleet, how: Exclude<Registration, 'none'>, devices: FleetDevice[],
  monitor: FleetDevice | undefined, progress: (line: string) => void, stderr: TextSink): Promise<void> {
  let caId = fleet.ca.fingerprint
  const mode = how === 'ca-auto' ? 'auto' : 'manual'
  try {
    caId = (await client.registerCa({ certificatePem: fleet.ca.certificatePem, registrationMode: mode, description: `simulated fleet ${fleet.name}` })).id
  } catch (err) {
    if (!(err instanceof AdminApiError && err.code === 'CA_DUPLICATE')) throw err
    // registered by an earlier run: rehearse what was asked for, or say why not
    const registered = await client.getCa(caId)
    if (registered.registrationMode !== mode) {
      throw new CertmqError('VALIDATION_FAILED', `--register ${how}: the fleet CA of "${fleet.name}" is already registered in ${registered.registrationMode} mode (CA ${caId}), ` +
        `so this run would rehearse ${registered.registrationMode} registration; delete that CA (certmq ca delete ${caId}) or use another --fleet`, { field: 'register', caId })
    }
    if (registered.status !== 'active') {
      stderr.write(`warning: the fleet CA of "${fleet.name}" (CA ${caId}) is ${registered.status}: its devices will be refused\n`)
    }
  }
  const certificates = [...(how === 'devices' ? devices : []), ...(how !== 'ca-auto' && monitor !== undefined ? [monitor] : [])]
  let done = 0
  for (let i = 0; i < certificates.length; i += 16) {
    await Promise.all(certificates.slice(i, i + 16).map(async (device) => {
      try {
        await client.registerCertificate({ caId, certificatePem: device.certificatePem })
      } catch (err) {
        if (!(err instanceof AdminApiError && err.code === 'CERT_DUPLICATE')) throw err
      }
      done++
    }))
    progress(`registered ${done}/${certificates.length} certificates`)
  }
}

function renderProgress (p: Progress): string {
  const rejected = Object.entries(p.rejectedByCode).map(([code, n]) => `rc${code}=${n}`).join(' ')
  return `${p.elapsedSeconds.toFixed(1)}s connected ${p.connectedNow} accepted ${p.accepted}${rejected === '' ? '' : ` rejected ${rejected}`} failures ${p.failures} ${p.messagesPerSecond} msg/s`
}

export function renderSummary (s: SimulationSummary): string {
  const ms = (x: number): string => Number.isNaN(x) ? '-' : `${x.toFixed(2)} ms`
  const { connect } = s
  const allUp = connect.devicesNeverConnected === 0
  const lines = [
    `devices            ${s.devices} over ${s.durationSeconds} s${s.interrupted ? ' (interrupted)' : ''}: ${connect.devicesConnected} connected at least once` +
      (allUp ? '' : `, ${connect.devicesNeverConnected} never`),
    `connects           ${connect.accepted} accepted of ${connect.attempts} attempts` +
      (connect.aborted > 0 ? ` (${connect.aborted} still waiting for a CONNACK at the end, abandoned)` : '') + '; ' +
      (allUp ? `${connect.perSecond}/s until all ${s.devices} were up (${connect.firstConnectSeconds} s)` : `not every device came up (${connect.perSecond}/s over the run)`),
    `CONNECT→CONNACK    p50 ${ms(s.connect.latencyMs.p50)}  p95 ${ms(s.connect.latencyMs.p95)}  p99 ${ms(s.connect.latencyMs.p99)}  max ${ms(s.connect.latencyMs.max)}`
  ]
  const rejected = Object.entries(s.connect.rejectedByCode)
  lines.push(`rejected           ${rejected.length === 0 ? 'none' : rejected.map(([code, n]) => `${n} × CONNACK ${code} (${CONNACK_NAMES[Number(code)] ?? 'unknown'})`).join(', ')}`)
  const failures = Object.entries(s.connect.failures).filter(([, n]) => n > 0)
  lines.push(`failed             ${failures.length === 0 ? 'none' : failures.map(([kind, n]) => `${n} ${kind}`).join(', ')}`)
  lines.push(`reconnects         ${s.connect.reconnects} (sessions dropped: ${s.connect.dropped}, TLS sessions resumed: ${s.connect.tlsResumed})`)
  const { messages } = s
  lines.push(`messages           ${messages.sent} sent, ` +
    (messages.received === null ? 'received and lost not measured (no monitor)' : `${messages.received} received by the monitor, ${messages.lost ?? 0} lost`) +
    (messages.commandsSent > 0 ? `; ${messages.commandsSent} commands sent, ${messages.commandsReceived} received` : '') +
    (messages.monitorReconnects > 0 ? ` (the monitor was dropped and reconnected ${messages.monitorReconnects} time(s): what was sent meanwhile counts as lost)` : ''))
  if (s.messages.latencyMs.count > 0) lines.push(`end-to-end latency p50 ${ms(s.messages.latencyMs.p50)}  p95 ${ms(s.messages.latencyMs.p95)}  p99 ${ms(s.messages.latencyMs.p99)}`)
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`
  if (s.broker !== undefined) lines.push(`broker RSS         ${mib(s.broker.rssBytes)} at the end with the fleet connected, at most ${mib(s.broker.peakRssBytes)} (pid ${s.broker.pid})`)
  return lines.join('\n') + '\n'
}

