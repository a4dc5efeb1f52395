/**
 * Environment variables that override config keys. A public contract: names never change.
 * CERTMQ_CONFIG (the config file path) is read by load.ts itself.
 */
export interface EnvBinding {
  readonly env: string
  /** Dotted key path in Config. */
  readonly key: string
  readonly type: 'string' | 'integer' | 'boolean'
}

export const CONFIG_FILE_ENV = 'CERTMQ_CONFIG'

/** Read by the operator commands (cli/index.ts), and often set where the broker runs too. */
export const CLI_ENV: readonly string[] = ['CERTMQ_ADMIN_URL', 'CERTMQ_ADMIN_TIMEOUT']

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'CERTMQ_NODE_NAME', key: 'nodeName', type: 'string' },
  { env: 'CERTMQ_DATA_DIR', key: 'dataDir', type: 'string' },
  { env: 'CERTMQ_LOG_LEVEL', key: 'logLevel', type: 'string' },
  { env: 'CERTMQ_MQTTS_HOST', key: 'mqtts.host', type: 'string' },
  { env: 'CERTMQ_MQTTS_PORT', key: 'mqtts.port', type: 'integer' },
  { env: 'CERTMQ_MQTTS_CERT_FILE', key: 'mqtts.certFile', type: 'string' },
  { env: 'CERTMQ_MQTTS_KEY_FILE', key: 'mqtts.keyFile', type: 'string' },
  { env: 'CERTMQ_MQTTS_ADVERTISE_CAS', key: 'mqtts.advertiseCas', type: 'boolean' },
  { env: 'CERTMQ_ADMIN_HOST', key: 'admin.host', type: 'string' },
  { env: 'CERTMQ_ADMIN_PORT', key: 'admin.port', type: 'integer' },
  { env: 'CERTMQ_ADMIN_TOKEN', key: 'admin.token', type: 'string' },
  { env: 'CERTMQ_AUTO_REGISTRATION_RATE', key: 'autoRegistration.maxPerSecond', type: 'integer' },
  { env: 'CERTMQ_CLIENT_ID_STRICT', key: 'clientId.strict', type: 'boolean' },
  { env: 'CERTMQ_SESSIONS_MAX_QUEUED_MESSAGES', key: 'sessions.maxQueuedMessages', type: 'integer' },
  { env: 'CERTMQ_SESSIONS_EXPIRY_SECONDS', key: 'sessions.expirySeconds', type: 'integer' },
  { env: 'CERTMQ_MAX_CAS', key: 'cas.max', type: 'integer' },
  { env: 'CERTMQ_METRICS_REQUIRE_TOKEN', key: 'metrics.requireToken', type: 'boolean' },
  { env: 'CERTMQ_EVENTS_RETENTION_DAYS', key: 'events.retentionDays', type: 'integer' },
  { env: 'CERTMQ_EVENTS_MAX', key: 'events.maxEvents', type: 'integer' },
  { env: 'CERTMQ_EVENTS_REJECTION_WINDOW_SECONDS', key: 'events.rejectionWindowSeconds', type: 'integer' },
  { env: 'CERTMQ_CAS_REQUIRE_PROOF_OF_POSSESSION', key: 'cas.requireProofOfPossession', type: 'boolean' },
  { env: 'CERTMQ_RUNTIME_HEAP_GROWING_PERCENT', key: 'runtime.heapGrowingPercent', type: 'integer' }
]
