/**
 * Composition root: Config → store → services → broker + admin API. The only file that names
 * concrete store implementations. Start order: store, built-in CA and TLS files, trust, broker,
 * MQTTS listener, admin API (in its own thread: admin/thread/); stop in reverse.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Config } from './config/schema.js'
import { CertmqError, isCertmqError } from './errors.js'
import { createLogger, type Logger } from './log.js'
import { EmbeddedRegistryStore } from './store/embedded/embedded-registry-store.js'
import { REGISTRY_DIR } from './store/embedded/databases.js'
import { guardLmdbCommitFailures } from './store/embedded/commit-failures.js'
import { listenFailure } from './listen-failure.js'
import { createDataDir } from './data-dir.js'
import { unwind, type StopStep } from './unwind.js'
import { LocalStatusBus } from './store/local-status-bus.js'
import { LocalRegistrationLimiter } from './store/local-limiter.js'
import { loadOrCreateBuiltinCa, loadOrCreateServerCertificate } from './pki/certificate-authority.js'
import { pemChain } from './pki/pem.js'
import { fingerprintOfPem } from './pki/inspect.js'
import { CaService } from './registry/ca-service.js'
import { CertificateService } from './registry/certificate-service.js'
import { TrustStore } from './auth/trust-store.js'
import { ConnectService } from './auth/connect-service.js'
import { createAuthHooks } from './auth/aedes-hooks.js'
import { observeAll } from './auth/connect-observer.js'
import { SessionRegistry } from './broker/sessions.js'
import { closeBroker, createBroker } from './broker/broker.js'
import { BoundedMemoryPersistence } from './broker/bounded-persistence.js'
import { SessionOwners } from './broker/session-owners.js'
import { MqttsListener } from './broker/mqtts-listener.js'
import { ServerCertificate, type ServerCertificateReload } from './broker/server-certificate.js'
import { AdminThread } from './admin/thread/admin-thread.js'
import { AdminTokens } from './admin/admin-tokens.js'
import { CertmqMetrics } from './metrics/metrics.js'
import { EmbeddedEventLog } from './store/embedded/embedded-event-log.js'
import { AuditTrail } from './events/audit-trail.js'
import { EventRetention } from './events/event-retention.js'
import { BackupService } from './registry/backup-service.js'
import { ACTOR_SYSTEM } from './domain/event.js'
import { MIN_TOKEN_LENGTH } from './domain/bearer-token.js'

export interface StartOptions {
  logger?: Logger
  now?: () => Date
  /** Where the one-time admin token banner goes; default process.stderr. */
  console?: NodeJS.WritableStream
  /** Facts about the process set up by the caller (e.g. `certmq serve`'s V8 heap growth), added to the server.started line. */
  startFacts?: Readonly<Record<string, string>>
  /** How often the MQTTS certificate is checked (the generated one renewed, an operator's expiry reported); default every 12 hours. */
  tlsRenewalCheckMs?: number
}

/** The generated server certificate is renewed 30 days before it expires; twice a day is plenty. */
const TLS_RENEWAL_CHECK_MS = 12 * 60 * 60 * 1000
/** Under the data directory: where online backups are made before they are sent (emptied at each start). */
const BACKUP_WORK_DIR = 'backup-tmp'

export interface RunningServer {
  readonly config: Readonly<Config>
  readonly mqtts: AddressInfo
  readonly admin: AddressInfo
  readonly adminUrl: string
  /** The built-in CA certificate devices use to trust the server. */
  readonly caCertificatePath: string
  /** Set only on the start that generated the token. */
  readonly generatedAdminToken: string | undefined
  /**
   * Rereads the MQTTS server certificate (mqtts.certFile/keyFile, or the generated pair, renewed
   * if due) and serves it to new handshakes; live sessions stay. Throws TLS_SETUP_FAILED or
   * PEM_INVALID, and keeps serving the previous one, when the new pair is unusable.
   */
  reloadTls (): Promise<ServerCertificateReload>
  stop (): Promise<void>
}

export async function startServer (config: Readonly<Config>, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(config.logLevel)
  const now = options.now ?? (() => new Date())
  const nodeName = config.nodeName !== '' ? config.nodeName : hostname()
  const dataDir = resolve(config.dataDir)
  createDataDir(dataDir)

  const metrics = new CertmqMetrics({ autoRegistrationPerSecond: config.autoRegistration.maxPerSecond })
  const store = metrics.instrumentStore(new EmbeddedRegistryStore({
    path: join(dataDir, REGISTRY_DIR),
    onClientFlushError: (err, certificates) => {
      log.warn({ event: 'clients.write_failed', code: err.code, certificates, err }, `could not record the connects and disconnects of ${certificates} certificates`)
    }
  }), now)
  await store.open()
  const unguard = guardLmdbCommitFailures((err, cause) => {
    log.error({ event: 'store.commit_failed', err, cause }, 'a background write to the embedded store failed (see cause: a full disk or a full map needs room); the broker goes on')
  })
  const bus = new LocalStatusBus()
  const limiter = new LocalRegistrationLimiter(config.autoRegistration.maxPerSecond)
  const stack: StopStep[] = [unguard, async () => { await store.close() }, async () => { await bus.close() }]
  const stopAll = async (): Promise<void> => {
    await unwind(stack, (err) => { log.error({ event: 'server.stop_failed', err }, 'a step of the stop failed; the others go on') })
  }

  try {
    // before anyone is admitted: devices this node showed connected when it last stopped without
    // recording their disconnects (kill -9, power loss) are not connected any more
    const released = await store.releaseStaleClients(nodeName)
    if (released > 0) log.info({ event: 'clients.released', node: nodeName, certificates: released }, `${released} certificates showed clients connected from before this start; marked disconnected`)
    const eventLog = new EmbeddedEventLog({
      table: () => store.eventTable(),
      now,
      onFlushError: (err, dropped) => { log.warn({ event: 'events.write_failed', dropped, err }, `could not write ${dropped} events`) }
    })
    stack.push(async () => { await eventLog.close() })
    const events = new AuditTrail({
      log: eventLog, now, rejectionWindowMs: config.events.rejectionWindowSeconds * 1000, logger: log.child({ module: 'events' })
    })
    const retention = new EventRetention({
      log: eventLog, retentionDays: config.events.retentionDays, maxEvents: config.events.maxEvents, now, logger: log.child({ module: 'events' })
    })
    retention.start()
    stack.push(async () => { await retention.stop() })

    const caService = new CaService({ store, bus, maxCas: config.cas.max, requireProofOfPossession: config.cas.requireProofOfPossession, now, events })
    const backups = new BackupService({
      store, eventLog, dir: join(dataDir, BACKUP_WORK_DIR), now, logger: log.child({ module: 'backup' }), events
    })
    await backups.clearLeftovers()

    const builtin = await loadOrCreateBuiltinCa(join(dataDir, 'ca'), `certmq built-in CA (${nodeName})`)
    warnIfBuiltinCaEnding(builtin, now(), log)
    await registerBuiltinCa(caService, builtin.certificatePem)
    if (builtin.created) await warnIfBuiltinCaReplaced(caService, builtin, log)
    const tls = await serverTls(config, dataDir, builtin, nodeName, now().getTime())
    const tokens = await AdminTokens.load(store, config.admin.token, now, config.admin.tokens)

    const trust = new TrustStore(store)
    await trust.refresh()
    const certificateService = new CertificateService({ store, bus, now, events, trust })
    // registered before certmq refused them (a data directory from an older version): say why
    // every new device under such a CA will be refused
    for (const ca of trust.all()) {
      if (ca.constraints.unsupported === undefined) continue
      log.warn({ event: 'ca.unsupported', caId: ca.record.id, subject: ca.record.subject, reason: ca.constraints.unsupported },
        `CA ${ca.record.id} cannot be trusted by certmq (${ca.constraints.unsupported}): new devices under it are refused as invalid_chain`)
    }
    const sessions = new SessionRegistry(bus, trust, log.child({ module: 'broker' }))
    stack.push(() => { sessions.close() })
    // every CONNECT decision and automatic registration is told to the metrics and the event log
    const observer = observeAll([metrics.connectObserver, events])
    const connect = new ConnectService({ store, trust, limiter, strictClientId: config.clientId.strict, now, registrations: observer })
    const sessionLog = log.child({ module: 'sessions' })
    const persistence = new BoundedMemoryPersistence({
      maxQueuedMessages: config.sessions.maxQueuedMessages,
      dropped: (clientId, first) => {
        metrics.messageDroppedQueueFull()
        // once per filling: a device away for a day would otherwise write a line per message
        if (first) {
          sessionLog.warn({ event: 'session.queue_full', clientId, maxQueuedMessages: config.sessions.maxQueuedMessages },
            `offline client ${clientId} has ${config.sessions.maxQueuedMessages} messages queued; newer ones are not queued for it until it reconnects`)
        }
      }
    })
    const owners = new SessionOwners(bus, persistence, sessionLog, {
      expiryMs: config.sessions.expirySeconds * 1000,
      onDiscarded: (reason) => { metrics.sessionDiscarded(reason) }
    })
    metrics.countAwaySessionsWith(() => owners.awayCount)
    stack.push(() => { owners.close() })
    const hooks = createAuthHooks({ connect, sessions, owners, store, nodeName, log: log.child({ module: 'auth' }), now, observer })
    const broker = await createBroker({ id: nodeName, hooks, connectTimeoutMs: config.mqtts.connectTimeoutMs, persistence })
    // runs after the broker has closed its clients (the stack unwinds in reverse): what is left
    // never sent CONNECT, and would hold the process until its timeout
    let leftover: (() => void) | undefined
    stack.push(() => { leftover?.() })
    stack.push(async () => { await closeBroker(broker) })
    metrics.connect.countConnectionsWith(() => broker.connectedClients)

    // without advertiseCas the TLS context holds no CA at all: OpenSSL's verdict on the chain
    // was never used (auth/ decides), and reaching a trusted CA cost a signature check per handshake
    const namedCas = (): string[] => config.mqtts.advertiseCas ? trust.activePems() : []
    const listener = new MqttsListener(broker, {
      host: config.mqtts.host,
      port: config.mqtts.port,
      certificatePem: tls.certificatePem,
      privateKeyPem: tls.privateKeyPem,
      caPems: namedCas(),
      handshakeTimeoutMs: config.mqtts.handshakeTimeoutMs
    }, log.child({ module: 'mqtts' }))
    // swapped on every CA change even when it names none: the new context's ticket keys end the
    // TLS sessions made before, so a device resumes into a full handshake and sends its chain
    // again (a resumed session has the leaf only, and an unknown leaf needs its intermediates)
    trust.onChange(() => { listener.setCaPems(namedCas()) })
    const mqtts = await listener.listen().catch((err: unknown) => { throw listenFailure(err, 'mqtts', config.mqtts.host, config.mqtts.port) })
    leftover = () => { listener.destroyConnections() }
    stack.push(async () => { await listener.close() })
    const certificateFiles = tls.generated
      ? { source: join(dataDir, 'tls', 'server.pem'), keySource: join(dataDir, 'tls', 'server.key') }
      : { source: config.mqtts.certFile, keySource: config.mqtts.keyFile }
    const serverCertificate = new ServerCertificate(tls, {
      sink: listener,
      // the generated pair is renewed on disk when due; an operator's files are read as they are
      load: async () => await serverTls(config, dataDir, builtin, nodeName, now().getTime()),
      ...certificateFiles,
      log: log.child({ module: 'mqtts' }),
      now,
      onServed: (notAfterSeconds) => { metrics.serverCertificateExpiry(notAfterSeconds) }
    })
    serverCertificate.checkExpiry()
    // twice a day: the generated certificate is renewed when due, an operator's is reported when
    // its end nears (it is replaced by the operator, then reloaded on SIGHUP)
    const stopRenewal = everyInterval(options.tlsRenewalCheckMs ?? TLS_RENEWAL_CHECK_MS, async () => {
      warnIfBuiltinCaEnding(builtin, now(), log)
      if (tls.generated) await serverCertificate.reload('renewal')
      else serverCertificate.checkExpiry()
    })
    stack.push(stopRenewal)

    // the admin API runs in its own thread and calls the services here (admin/thread/)
    const adminThread = await AdminThread.start({
      backend: {
        cas: caService,
        certificates: certificateService,
        events: eventLog,
        backups,
        status: {
          mqtts: async () => listener.isListening,
          store: async () => await storeAnswers(store),
          metrics: async () => await metrics.registry.metrics()
        }
      },
      tokens: tokens.share(),
      host: config.admin.host,
      port: config.admin.port,
      metrics: { contentType: metrics.registry.contentType, requireToken: config.metrics.requireToken },
      logger: log
    }).catch((err: unknown) => { throw listenFailure(err, 'admin', config.admin.host, config.admin.port) })
    stack.push(async () => { await adminThread.close() })
    const admin = adminThread.address
    const adminUrl = `http://${urlHost(admin)}:${admin.port}`

    warnAboutDevDefaults(config, log)
    // only now, with both listeners up, is the built-in token's hash stored (see AdminTokens.load)
    if (await tokens.commit() === 'retired') {
      log.info({ event: 'admin.token_retired', source: 'admin.token' },
        'the configured admin token retired the generated one, which no longer works; a start without admin.token generates a new one')
    }
    if (tokens.generated !== undefined) printTokenBanner(options.console ?? process.stderr, tokens.generated, adminUrl)
    // devices trust the server through the built-in CA only when it issued the server certificate;
    // with mqtts.certFile they need that certificate's own issuer, which the operator has
    const trustHint = tls.generated
      ? { caCertificate: builtin.certificatePath, text: `CA certificate for devices at ${builtin.certificatePath}` }
      : { serverCertificate: config.mqtts.certFile, text: `server certificate from ${config.mqtts.certFile} (devices trust its issuer)` }
    const { text: trustText, ...trustFields } = trustHint
    log.info({
      event: 'server.started',
      node: nodeName,
      mqtts: `mqtts://${urlHost(mqtts)}:${mqtts.port}`,
      admin: adminUrl,
      ...trustFields,
      dataDir,
      ...options.startFacts
    }, `certmq is up: MQTTS on ${urlHost(mqtts)}:${mqtts.port}, admin API on ${adminUrl}, ${trustText}`)

    let stopping: Promise<void> | undefined
    return {
      config,
      mqtts,
      admin,
      adminUrl,
      caCertificatePath: builtin.certificatePath,
      generatedAdminToken: tokens.generated,
      reloadTls: async () => await serverCertificate.reload('signal'),
      stop: async () => {
        stopping ??= stopAll().then(() => { log.info({ event: 'server.stopped', node: nodeName }, 'certmq stopped') })
        await stopping
      }
    }
  } catch (err) {
    await stopAll().catch(() => {})
    throw err
  }
}

/** Readiness: a cheap read that goes through the store's own path (a closed store throws). */
async function storeAnswers (store: { getMeta (key: string): Promise<string | undefined> }): Promise<boolean> {
  try {
    await store.getMeta('schema.version')
    return true
  } catch {
    return false
  }
}

async function registerBuiltinCa (caService: CaService, certificatePem: string): Promise<void> {
  try {
    await caService.register({
      certificatePem, registrationMode: 'manual', description: 'certmq built-in CA', builtin: true, actor: ACTOR_SYSTEM
    })
  } catch (err) {
    if (!isCertmqError(err, 'CA_DUPLICATE')) throw err
  }
}

/**
 * A built-in CA was just made, and the registry holds another: that one's files are gone from the
 * data directory (a restore without `ca/`, a deleted directory). The server certificate now
 * chains to the new one, and devices that trust the old one cannot verify this server.
 */
async function warnIfBuiltinCaReplaced (caService: CaService, builtin: { certificatePem: string, certificatePath: string }, log: Logger): Promise<void> {
  const builtinId = fingerprintOfPem(builtin.certificatePem, builtin.certificatePath)
  const { certificatePath } = builtin
  for (const ca of await caService.list()) {
    if (!ca.builtin || ca.id === builtinId) continue
    log.warn({ event: 'ca.builtin_replaced', caId: ca.id, current: builtinId, certificate: certificatePath },
      `the registry holds an earlier built-in CA ${ca.id} whose certificate and key are not in ${dirname(certificatePath)}: this server's certificate now chains to a new built-in CA, which devices that trust the earlier one do not accept; put back that directory (docs/operations.md, "Backup and restore") or give devices ${certificatePath}`)
  }
}

/**
 * The MQTTS certificate: the configured files, or one issued by the built-in CA (`generated`),
 * re-issued when it has 30 days left (loadOrCreateServerCertificate).
 */
async function serverTls (config: Readonly<Config>, dataDir: string, ca: { certificatePem: string; privateKeyPem: string }, nodeName: string, nowMs: number):
  Promise<{ certificatePem: string; privateKeyPem: string; generated: boolean }> {
  const { certFile, keyFile } = config.mqtts
  // loadConfig has checked that both are set, or neither, and readable
  if (certFile !== '' || keyFile !== '') {
    return { certificatePem: readTlsFile(certFile, 'mqtts.certFile'), privateKeyPem: readTlsFile(keyFile, 'mqtts.keyFile'), generated: false }
  }
  const names = [...new Set(['localhost', nodeName, hostname(), ...config.mqtts.serverNames])]
  const server = await loadOrCreateServerCertificate(join(dataDir, 'tls'), ca, names, ['127.0.0.1', '::1'], nowMs)
  // The chain as devices have always received it (OpenSSL found the built-in CA among the trusted
  // CAs and sent it), now given explicitly: otherwise OpenSSL rebuilds and re-verifies the
  // server's own chain on every handshake, about 2% of a connect's CPU
  return { certificatePem: pemChain(server.certificatePem, ca.certificatePem), privateKeyPem: server.privateKeyPem, generated: true }
}

/**
 * Runs `task` every `everyMs`, one run at a time; a failed run was logged by the task and is tried
 * again at the next tick. Returns the stop function, which waits for a run under way (so nothing
 * writes tls/ after stop()).
 */
function everyInterval (everyMs: number, task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    running ??= task().catch(() => {}).finally(() => { running = undefined })
  }, everyMs).unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}

/**
 * The built-in CA is made for 10 years and not renewed by certmq: from a year before its end it
 * is reported (warn) at start and twice a day, so there is time to move devices to another CA.
 */
function warnIfBuiltinCaEnding (builtin: { certificatePem: string, certificatePath: string }, at: Date, log: Logger): void {
  const notAfter = new Date(new X509Certificate(builtin.certificatePem).validTo)
  const daysLeft = Math.floor((notAfter.getTime() - at.getTime()) / 86_400_000)
  if (daysLeft >= 365) return
  log.warn({ event: 'ca.builtin_expiring', certificate: builtin.certificatePath, notAfter: notAfter.toISOString(), daysLeft },
    `the built-in CA ends in ${Math.max(daysLeft, 0)} days, and with it every server certificate it issues: see docs/operations.md, "The built-in CA"`)
}

function readTlsFile (path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CertmqError('TLS_SETUP_FAILED', `config ${key}: cannot read ${path} (${(err as Error).message})`, { key, path }, { cause: err })
  }
}

function warnAboutDevDefaults (config: Readonly<Config>, log: Logger): void {
  const loopback = ['127.0.0.1', '::1', 'localhost']
  if (!loopback.includes(config.admin.host)) {
    log.warn({ event: 'config.unsafe', key: 'admin.host', value: config.admin.host },
      'the admin API listens beyond localhost over plain HTTP: put it behind TLS or a private network')
  }
  if (config.admin.token !== '' && config.admin.token.length < MIN_TOKEN_LENGTH) {
    // never the value, nor its length: only that it is short
    log.warn({ event: 'config.unsafe', key: 'admin.token' },
      `the admin token is shorter than ${MIN_TOKEN_LENGTH} characters and easy to guess: use a long random one (openssl rand -base64 32)`)
  }
}

function printTokenBanner (out: NodeJS.WritableStream, token: string, adminUrl: string): void {
  out.write([
    '',
    '  certmq generated an admin token. It is shown once and stored only as a hash:',
    '',
    `      ${token}`,
    '',
    `  Use it as a bearer token for ${adminUrl}/api/v1 (or export CERTMQ_ADMIN_TOKEN for the CLI).`,
    ''
  ].join('\n') + '\n')
}

function urlHost (address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return 'localhost'
  return address.family === 'IPv6' ? `[${address.address}]` : address.address
}
