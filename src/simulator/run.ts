/**
 * Runs a simulated fleet against an MQTTS broker (certmq, mosquitto, any): first connects paced
 * by bottleneck at `rate` per second with at most `concurrency` in flight; devices refused or
 * dropped retry with backoff the way real devices do; connected devices publish telemetry to
 * `fleet/<clientId>/telemetry` and may subscribe to `fleet/<clientId>/cmd`. A monitor client
 * subscribed to every device's telemetry measures end-to-end latency and loss of this run's
 * messages (they carry a run id: another fleet's telemetry on the same broker is not counted). `stormAfterSeconds`
 * drops every session at once to rehearse a reconnect storm (retries then bypass the pacing;
 * TLS sessions are resumed when the broker issued tickets).
 */
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { MqttClient } from 'mqtt'
import { CertmqError } from '../errors.js'
import { within } from '../timers.js'
import { backoffDelay, type BackoffPolicy } from './backoff.js'
import { connectOnce, type TargetBroker } from './device.js'
import { createPacer } from './pacing.js'
import type { Fleet, FleetDevice } from './fleet.js'
import { SimulationStats, type SimulationSummary } from './stats.js'

export interface SimulationOptions {
  fleet: Fleet
  /** devices of the fleet to run (the monitor, if any, is passed separately) */
  devices: FleetDevice[]
  monitor?: FleetDevice
  broker: TargetBroker
  rate: number
  concurrency: number
  durationSeconds: number
  /** telemetry messages per second per device (0: none) */
  publishRate: number
  qos: 0 | 1 | 2
  /** telemetry payload size in bytes (at least the header of a run id, send time and sequence) */
  payloadBytes: number
  subscribeCommands: boolean
  backoff: BackoffPolicy
  /** retries per device after a refusal or failure (Infinity: keep trying until the end) */
  maxRetries: number
  stormAfterSeconds?: number
  brokerPid?: number
  onProgress?: (progress: Progress) => void
  progressIntervalMs?: number
  /** Ends the run early (Ctrl-C): the summary covers what happened until then. */
  signal?: AbortSignal
}


export interface Progress {
  elapsedSeconds: number
  connectedNow: number
  accepted: number
  rejectedByCode: Record<string, number>
  failures: number
  messagesPerSecond: number
}

interface DeviceState {
  device: FleetDevice
  clientId: string
  client: MqttClient | undefined
  session: Buffer | undefined
  retries: number
  seq: number
  publishTimer: NodeJS.Timeout | undefined
  retryTimer: NodeJS.Timeout | undefined
}

export async function runSimulation (options: SimulationOptions): Promise<SimulationSummary> {
  let startedAt = performance.now()
  const stats = new SimulationStats(options.devices.length, startedAt, options.monitor !== undefined)
  const pacer = createPacer(options.rate, options.concurrency)
  const topicPrefix = 'fleet/'
  let stopping = false
  let storming = false
  let connectedNow = 0
  const states: DeviceState[] = options.devices.map((device) => ({
    device, clientId: device.commonName, client: undefined, session: undefined, retries: 0, seq: 0, publishTimer: undefined, retryTimer: undefined
  }))
  /** attempts waiting for their CONNACK: abandoned when the run ends, so it ends on time */
  const inFlight = new AbortController()
  // one listener per attempt in flight (--concurrency, a whole storm): not a leak
  setMaxListeners(0, inFlight.signal)
  // telemetry is `<run id>:<sent at>:<sequence>:<padding>`, padded to exactly payloadBytes
  const runId = randomBytes(4).toString('hex')
  const telemetry = (seq: number): string => {
    const head = `${runId}:${performance.now().toFixed(3)}:${seq}:`
    return head.length >= options.payloadBytes ? head : head + 'x'.repeat(options.payloadBytes - head.length)
  }
  let peakRss: number | undefined
  const sampleRss = async (): Promise<number | undefined> => {
    if (options.brokerPid === undefined) return undefined
    const rss = await rssOf(options.brokerPid)
    if (rss !== undefined) peakRss = Math.max(peakRss ?? 0, rss)
    return rss
  }

  // ---- the monitor: every device's telemetry, and the commands ----
  let monitor: MqttClient | undefined
  let monitorRetryTimer: NodeJS.Timeout | undefined
  const ours = `${runId}:`
  const onTelemetry = (topic: string, payload: Buffer): void => {
    if (!topic.endsWith('/telemetry')) return
    const head = payload.toString('latin1', 0, 40)
    if (!head.startsWith(ours)) return
    stats.received++
    const sentAt = Number(head.slice(ours.length, head.indexOf(':', ours.length)))
    if (Number.isFinite(sentAt)) stats.messageLatency.record(performance.now() - sentAt)
  }
  /**
   * Connects the monitor and subscribes it to every device's telemetry. A dropped monitor (a
   * broker restart, a takeover) comes back with backoff like a device, or every message after
   * the drop would count as lost; only the first connect's refusal ends the run.
   */
  const connectMonitor = async (identity: FleetDevice, first: boolean): Promise<boolean> => {
    const result = await connectOnce(options.broker, identityOf(identity), undefined, () => {}, first ? undefined : inFlight.signal)
    if (result.kind !== 'accepted') {
      if (!first) return false
      const why = result.kind === 'refused' ? `CONNACK ${result.code}` : result.kind === 'failed' ? result.message : 'abandoned'
      // the run cannot measure what it was asked to
      throw new CertmqError('MONITOR_REFUSED', `the monitor client (${identity.commonName}) could not connect: ${why}` +
        (result.kind === 'refused' ? '; under a manual CA register it (--register ca-manual or devices does), or run with --no-monitor' : ''),
      { host: options.broker.host, port: options.broker.port })
    }
    const client = result.client
    if (stopping) {
      // came back as the run ended: the end has closed the monitor already, or will not see this one
      client.end(true)
      return true
    }
    monitor = client
    client.on('message', onTelemetry)
    client.once('close', () => {
      if (monitor !== client) return
      monitor = undefined
      if (stopping || !monitorUp) return
      stats.monitorReconnects++
      reconnectMonitor(identity, 0)
    })
    // a SUBACK is awaited no longer than a CONNACK: a broker that never sends one would hold the run
    const failure = await within(
      client.subscribeAsync(`${topicPrefix}+/telemetry`, { qos: options.qos }).then(() => undefined, (err: unknown) => err instanceof Error ? err.message : String(err)),
      options.broker.connectTimeoutMs, `no SUBACK within ${options.broker.connectTimeoutMs} ms`)
    if (failure === undefined) return true
    if (first) {
      monitor = undefined
      client.end(true)
      throw new CertmqError('MONITOR_REFUSED', `the monitor client (${identity.commonName}) could not subscribe to ${topicPrefix}+/telemetry: ${failure}`,
        { host: options.broker.host, port: options.broker.port })
    }
    // dropped before its SUBACK, or none came: its close (forced here) brings it back
    client.stream.destroy()
    return true
  }
  const reconnectMonitor = (identity: FleetDevice, attempt: number): void => {
    monitorRetryTimer = setTimeout(() => {
      monitorRetryTimer = undefined
      void connectMonitor(identity, false).then((connected) => {
        if (!connected && !stopping) reconnectMonitor(identity, attempt + 1)
      })
    }, backoffDelay(options.backoff, attempt))
  }
  let monitorUp = false
  if (options.monitor !== undefined) await connectMonitor(options.monitor, true)
  monitorUp = true

  const schedule = (state: DeviceState, paced: boolean, isRetry: boolean): void => {
    if (stopping) return
    const attempt = async (): Promise<void> => {
      if (stopping) return
      stats.attempt()
      if (isRetry) stats.retry()
      const result = await connectOnce(options.broker, identityOf(state.device), state.session, (session) => { state.session = session }, inFlight.signal)
      // every attempt made is counted, also one that ended as the run did; only the retries and
      // the telemetry stop then
      if (result.kind === 'aborted') {
        stats.abandoned()
        return
      }
      if (result.kind === 'accepted') {
        stats.connected(state.device.index, result.latencyMs, result.resumed, performance.now())
        if (stopping) {
          result.client.end(true)
          return
        }
        state.retries = 0
        onConnected(state, result.client)
        return
      }
      if (result.kind === 'refused') stats.rejected(result.code)
      else stats.failed(result.failure)
      retry(state)
    }
    if (paced && !storming) void pacer.run(attempt).catch(() => {})
    else void attempt()
  }

  const retry = (state: DeviceState): void => {
    if (stopping || state.retries >= options.maxRetries) return
    const delay = backoffDelay(options.backoff, state.retries++)
    state.retryTimer = setTimeout(() => { state.retryTimer = undefined; schedule(state, false, true) }, delay)
  }

  /** A session that was up and dropped (the storm, the broker) comes back after the first backoff delay, whatever --retries says: that limit is for refused and failed attempts. */
  const reconnect = (state: DeviceState): void => {
    if (stopping) return
    state.retryTimer = setTimeout(() => { state.retryTimer = undefined; schedule(state, false, true) }, backoffDelay(options.backoff, 0))
  }

  const onConnected = (state: DeviceState, client: MqttClient): void => {
    state.client = client
    connectedNow++
    if (options.subscribeCommands) {
      client.on('message', (topic) => { if (topic.endsWith('/cmd')) stats.commandsReceived++ })
      client.subscribe(`${topicPrefix}${state.clientId}/cmd`, { qos: options.qos })
    }
    if (options.publishRate > 0) {
      const topic = `${topicPrefix}${state.clientId}/telemetry`
      // each tick sends what this session owes the rate so far: a timer per message would lag
      // behind (setInterval drifts by its callback's time, and takes no less than 1 ms). Rounded:
      // the timer counts from the event loop's clock, which can be a little behind `since`, so
      // a tick may come at 999.9 ms of a 1000 ms period
      const since = performance.now()
      let published = 0
      state.publishTimer = setInterval(() => {
        if (!client.connected) return
        const owed = Math.round((performance.now() - since) / 1000 * options.publishRate) - published
        for (let k = 0; k < owed; k++) {
          published++
          stats.sent++
          client.publish(topic, telemetry(state.seq++), { qos: options.qos })
        }
      }, Math.max(PUBLISH_TICK_MS, 1000 / options.publishRate))
    }
    client.once('close', () => {
      if (state.client !== client) return
      state.client = undefined
      connectedNow--
      if (state.publishTimer !== undefined) clearInterval(state.publishTimer)
      state.publishTimer = undefined
      if (stopping) return
      stats.droppedSession()
      reconnect(state)
    })
  }

  // ---- progress, commands, storm, end ----
  let lastSent = 0
  const progressTimer = setInterval(() => {
    const rejected: Record<string, number> = {}
    for (const [code, n] of stats.rejectedByCode) rejected[String(code)] = n
    options.onProgress?.({
      elapsedSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
      connectedNow,
      accepted: stats.accepted,
      rejectedByCode: rejected,
      failures: Object.values(stats.failures).reduce((a, b) => a + b, 0),
      messagesPerSecond: Math.round((stats.sent - lastSent) * 1000 / (options.progressIntervalMs ?? 1000))
    })
    lastSent = stats.sent
    if (monitor !== undefined && options.subscribeCommands) {
      for (const state of states) {
        if (state.client === undefined) continue
        stats.commandsSent++
        monitor.publish(`${topicPrefix}${state.clientId}/cmd`, 'ping', { qos: options.qos })
      }
    }
    void sampleRss()
  }, options.progressIntervalMs ?? 1000)

  const stormTimer = options.stormAfterSeconds === undefined
    ? undefined
    : setTimeout(() => {
      storming = true
      for (const state of states) state.client?.stream.destroy()
    }, options.stormAfterSeconds * 1000)

  // the clock starts with the fleet, not with the monitor's connect before it
  startedAt = performance.now()
  stats.begin(startedAt)
  for (const state of states) schedule(state, true, false)
  // the duration, or until the signal (Ctrl-C) ends it early
  await sleep(options.durationSeconds * 1000, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(() => {})
  stats.interrupted = options.signal?.aborted === true
  // the run's end: what comes next (the monitor's wait for the last messages, the closes) is not part of its duration
  const endedAt = performance.now()

  stopping = true
  clearInterval(progressTimer)
  if (stormTimer !== undefined) clearTimeout(stormTimer)
  inFlight.abort()
  // no telemetry after the end: what is sent has the grace below to reach the monitor
  for (const state of states) {
    if (state.publishTimer !== undefined) clearInterval(state.publishTimer)
    state.publishTimer = undefined
  }
  await pacer.stop()
  // the memory with the fleet still connected, before it disconnects
  const rss = await sampleRss()
  if (monitorRetryTimer !== undefined) clearTimeout(monitorRetryTimer)
  // let in-flight QoS 1 telemetry reach the monitor before everything closes
  if (options.monitor !== undefined) await new Promise((resolve) => setTimeout(resolve, 500))
  await Promise.all(states.map(async (state) => {
    if (state.retryTimer !== undefined) clearTimeout(state.retryTimer)
    if (state.publishTimer !== undefined) clearInterval(state.publishTimer)
    if (state.client !== undefined) await closeClient(state.client)
  }))
  // after the devices: it still counts the QoS 1/2 telemetry they deliver while closing
  if (monitor !== undefined) await closeClient(monitor)
  // sampleRss() counted `rss` into the peak
  const memory = rss === undefined || options.brokerPid === undefined ? undefined : { pid: options.brokerPid, rssBytes: rss, peakRssBytes: peakRss ?? rss }
  return stats.summary(endedAt, memory)
}

/** The shortest time between two telemetry rounds of a device; above 100 messages a second, a round sends several. */
const PUBLISH_TICK_MS = 10

/** How long a client's DISCONNECT may take at the end before its connection is dropped. */
const CLOSE_TIMEOUT_MS = 2000

/**
 * Ends a client with a DISCONNECT; drops its connection when the broker has not let it go within
 * CLOSE_TIMEOUT_MS (mqtt.js waits for every QoS 1/2 message to be acknowledged, then for the
 * broker to close), so a broker that stopped answering does not keep the run from ending.
 */
async function closeClient (client: MqttClient): Promise<void> {
  const ended = await within(client.endAsync().then(() => true, () => true), CLOSE_TIMEOUT_MS, false)
  if (!ended) client.stream.destroy()
}

function identityOf (device: FleetDevice): { clientId: string, certificatePem: string, privateKeyPem: string } {
  return { clientId: device.commonName, certificatePem: device.certificatePem, privateKeyPem: device.privateKeyPem }
}

/** The resident set size of a process (Linux /proc), undefined where unreadable. */
export async function rssOf (pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) * 1024
  } catch {
    return undefined
  }
}
