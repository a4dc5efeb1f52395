/**
 * What a simulation run counts, and its summary. Pure: events come in through the methods, the
 * clock is a parameter, and summary() is the one machine-readable result (`--json`).
 */
import { LatencyHistogram, type LatencySummary } from './histogram.js'

/** Why a connection attempt did not end in CONNACK 0. */
export type FailureKind = 'tls' | 'timeout' | 'closed' | 'error'

export const CONNACK_NAMES: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized'
}

export interface SimulationSummary {
  devices: number
  durationSeconds: number
  /** the run was ended early (Ctrl-C) rather than after its duration */
  interrupted: boolean
  connect: {
    attempts: number
    accepted: number
    /** accepted connects per second over the time the first connect of every device took */
    perSecond: number
    firstConnectSeconds: number
    latencyMs: LatencySummary
    /** CONNACK return code → count of refusals */
    rejectedByCode: Record<string, number>
    failures: Record<FailureKind, number>
    /** attempts still waiting for their CONNACK when the run ended, abandoned then */
    aborted: number
    /** distinct devices that connected at least once, and those that never did */
    devicesConnected: number
    devicesNeverConnected: number
    /** retries made (after a refusal, a failure or a dropped session) */
    reconnects: number
    dropped: number
    tlsResumed: number
  }
  messages: {
    sent: number
    /** telemetry of this run seen by the monitor; null without a monitor (--no-monitor) */
    received: number | null
    commandsSent: number
    commandsReceived: number
    /** times the monitor's session was dropped and it reconnected: what was sent meanwhile counts as lost */
    monitorReconnects: number
    /** sent minus received; null without a monitor */
    lost: number | null
    latencyMs: LatencySummary
  }
  broker?: BrokerMemory
}

/** The broker's resident set size: when the run ended (devices still connected) and the most seen while it ran. */
export interface BrokerMemory {
  pid: number
  rssBytes: number
  peakRssBytes: number
}

export class SimulationStats {
  readonly connectLatency = new LatencyHistogram()
  readonly messageLatency = new LatencyHistogram()
  attempts = 0
  accepted = 0
  reconnects = 0
  dropped = 0
  tlsResumed = 0
  aborted = 0
  interrupted = false
  sent = 0
  received = 0
  commandsSent = 0
  commandsReceived = 0
  monitorReconnects = 0
  readonly rejectedByCode = new Map<number, number>()
  readonly failures: Record<FailureKind, number> = { tls: 0, timeout: 0, closed: 0, error: 0 }
  /** devices that have connected at least once */
  private readonly firstConnected = new Set<number>()
  private firstConnectDoneAt: number | undefined

  /** `monitored`: a monitor client counts what is received; without one, nothing received or lost is known. */
  constructor (readonly devices: number, private startedAt: number, private readonly monitored = true) {}

  /** The fleet starts now (after the monitor is up): connects per second and the duration count from here. */
  begin (at: number): void {
    this.startedAt = at
  }

  attempt (): void {
    this.attempts++
  }

  connected (device: number, latencyMs: number, resumed: boolean, at: number): void {
    this.accepted++
    this.connectLatency.record(latencyMs)
    if (resumed) this.tlsResumed++
    if (!this.firstConnected.has(device)) {
      this.firstConnected.add(device)
      if (this.firstConnected.size === this.devices) this.firstConnectDoneAt = at
    }
  }

  rejected (code: number): void {
    this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + 1)
  }

  failed (kind: FailureKind): void {
    this.failures[kind]++
  }

  /** An attempt abandoned when the run ended, before its CONNACK. */
  abandoned (): void {
    this.aborted++
  }

  /** A session that was up ended without the simulator asking for it. */
  droppedSession (): void {
    this.dropped++
  }

  retry (): void {
    this.reconnects++
  }

  get connectedDevices (): number {
    return this.firstConnected.size
  }

  summary (endedAt: number, broker?: BrokerMemory): SimulationSummary {
    const firstConnectMs = (this.firstConnectDoneAt ?? endedAt) - this.startedAt
    const rejectedByCode: Record<string, number> = {}
    for (const [code, n] of [...this.rejectedByCode].sort((a, b) => a[0] - b[0])) rejectedByCode[String(code)] = n
    return {
      devices: this.devices,
      durationSeconds: round((endedAt - this.startedAt) / 1000),
      interrupted: this.interrupted,
      connect: {
        attempts: this.attempts,
        accepted: this.accepted,
        perSecond: firstConnectMs > 0 ? round(this.firstConnected.size / (firstConnectMs / 1000)) : 0,
        firstConnectSeconds: round(firstConnectMs / 1000),
        latencyMs: this.connectLatency.summary(),
        rejectedByCode,
        failures: { ...this.failures },
        aborted: this.aborted,
        devicesConnected: this.firstConnected.size,
        devicesNeverConnected: this.devices - this.firstConnected.size,
        reconnects: this.reconnects,
        dropped: this.dropped,
        tlsResumed: this.tlsResumed
      },
      messages: {
        sent: this.sent,
        received: this.monitored ? this.received : null,
        commandsSent: this.commandsSent,
        commandsReceived: this.commandsReceived,
        monitorReconnects: this.monitorReconnects,
        lost: this.monitored ? Math.max(0, this.sent - this.received) : null,
        latencyMs: this.messageLatency.summary()
      },
      ...(broker === undefined ? {} : { broker })
    }
  }
}

function round (x: number): number {
  return Math.round(x * 100) / 100
}
