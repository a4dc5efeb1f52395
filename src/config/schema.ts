/**
 * The configuration schema: the single source of the Config type, its defaults and the
 * description of every key (docs/config.md is generated from it). Every object forbids unknown
 * keys, so a misspelt key is an error rather than a silent no-op.
 */
import { Type, type Static } from '@sinclair/typebox'
import { MAX_TIMER_MS } from '../timers.js'

const strict = { additionalProperties: false } as const

/** A string enum as one JSON Schema `enum`, so a bad value gives one error that lists the choices. */
function stringEnum<T extends string> (values: readonly T[], options: { default: T; description: string }) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options })
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const ADMIN_ROLES = ['admin', 'viewer'] as const

/** One named admin API token; only its hash, or the name of the variable holding it, is in the config. */
export const AdminTokenSchema = Type.Object({
  name: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    description: 'Name of the token, shown in logs and events as the actor; unique; `admin` is reserved for admin.token'
  }),
  role: stringEnum(ADMIN_ROLES, {
    default: 'viewer',
    description: '`admin` may do everything; `viewer` may only read (GET, HEAD) and gets 403 FORBIDDEN on any write'
  }),
  tokenSha256: Type.Optional(Type.String({
    pattern: '^[0-9a-f]{64}$',
    description: 'SHA-256 of the token as 64 lowercase hex digits (what `sha256sum` prints for the token without a trailing newline); set this or tokenEnv'
  })),
  tokenEnv: Type.Optional(Type.String({
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    description: 'Name of an environment variable holding the token itself (at least 16 characters of A-Z a-z 0-9 - . _ ~ + /), read at start and kept only as its hash; set this or tokenSha256'
  }))
}, strict)

export const ConfigSchema = Type.Object({
  nodeName: Type.String({
    default: '',
    // empty (the host name) or a name with something to read in logs and associated clients
    pattern: '^(|.*\\S.*)$',
    description: 'Name of this broker node in logs and associated clients; empty means the host name'
  }),
  dataDir: Type.String({
    default: './data',
    minLength: 1,
    description: 'Directory of the embedded store, the built-in CA and the generated TLS files'
  }),
  logLevel: stringEnum(LOG_LEVELS, { default: 'info', description: 'pino log level' }),
  mqtts: Type.Object({
    // not empty: node would take '' as every interface, where an empty variable means the default
    host: Type.String({ default: '0.0.0.0', minLength: 1, description: 'Address the MQTTS listener binds to (`::` for every IPv6 and IPv4 interface)' }),
    port: Type.Integer({ default: 8883, minimum: 0, maximum: 65535, description: 'MQTTS port; 0 picks a free one' }),
    certFile: Type.String({
      default: '',
      description: 'PEM server certificate (chain) for the listener, reread on SIGHUP; empty means one issued by the built-in CA'
    }),
    keyFile: Type.String({ default: '', description: 'PEM private key matching mqtts.certFile' }),
    serverNames: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Extra DNS names (a leading `*.` allowed) or IP addresses for the generated server certificate (localhost, 127.0.0.1, ::1 and the host name are always in it)'
    }),
    advertiseCas: Type.Boolean({
      default: false,
      description: 'Name the active CAs in the TLS CertificateRequest, for device TLS stacks that choose among several certificates by those names (some Java and .NET clients). Off: the request names none (RFC 8446/5246: send any certificate), so anyone who opens TLS does not learn the registered CAs\' names, the request stays small for constrained TLS stacks however many CAs are registered, and OpenSSL does not verify a chain certmq does not use (its registry decides; an unknown certificate\'s chain is checked by certmq itself)'
    }),
    handshakeTimeoutMs: Type.Integer({
      default: 10_000,
      minimum: 100,
      maximum: MAX_TIMER_MS,
      description: 'Milliseconds a client has to finish its TLS handshake; then the connection is closed'
    }),
    connectTimeoutMs: Type.Integer({
      default: 30_000,
      minimum: 100,
      maximum: MAX_TIMER_MS,
      description: 'Milliseconds a client has to send CONNECT after its TLS handshake; then the connection is closed'
    })
  }, { ...strict, default: {} }),
  admin: Type.Object({
    // not empty: node would take '' as every interface, the opposite of the safe default
    host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address the admin HTTP API binds to; keep it on localhost unless it is behind TLS' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'Admin HTTP API port; 0 picks a free one' }),
    token: Type.String({
      default: '',
      description: 'Admin bearer token: A-Z a-z 0-9 - . _ ~ + / only (and = at the end), 16 characters or more (a shorter one is warned about at start); while set it is the admin token and retires a generated one for good (start with it to retire a lost one), unless it is that generated token. Empty means one is generated on first start, shown once and stored only as a hash. Prefer CERTMQ_ADMIN_TOKEN to writing it here'
    }),
    tokens: Type.Array(AdminTokenSchema, {
      default: [],
      description: 'Further named tokens with a role, e.g. `[{ "name": "ci", "role": "viewer", "tokenEnv": "CERTMQ_CI_TOKEN" }]`. admin.token (or the generated one) stays valid as the token named `admin` with role `admin`'
    })
  }, { ...strict, default: {} }),
  metrics: Type.Object({
    requireToken: Type.Boolean({
      default: false,
      description: 'Require an admin API bearer token (any role) for GET /metrics on the admin listener; by default it is open like /healthz, since the admin listener binds to localhost'
    })
  }, { ...strict, default: {} }),
  autoRegistration: Type.Object({
    maxPerSecond: Type.Integer({
      default: 15,
      minimum: 1,
      maximum: 100_000,
      description: 'At most this many automatic registrations in any sliding second, across all nodes; the rest get CONNACK 3'
    })
  }, { ...strict, default: {} }),
  sessions: Type.Object({
    maxQueuedMessages: Type.Integer({
      default: 1000,
      minimum: 0,
      maximum: 10_000_000,
      description: 'At most this many QoS 1/2 messages are queued for one client while it is offline (a persistent session, clean=false); newer ones are not queued for it, counted in certmq_messages_dropped_total. 0: no bound (an abandoned session then grows until the broker runs out of memory)'
    }),
    expirySeconds: Type.Integer({
      default: 604_800,
      minimum: 0,
      maximum: 31_536_000,
      description: 'A persistent session (clean=false) whose device has been away this long is discarded with its subscriptions and queued messages; the device starts a new session when it is back (CONNACK session present 0). Default 7 days; 0: never (every device ever seen keeps its session until a restart)'
    })
  }, { ...strict, default: {} }),
  clientId: Type.Object({
    strict: Type.Boolean({
      default: false,
      description: 'Reject (CONNACK 2) a CONNECT whose non-empty client ID is neither the registered Client ID nor the subject CN. In either mode a certificate cannot use another certificate\'s registered Client ID'
    })
  }, { ...strict, default: {} }),
  cas: Type.Object({
    max: Type.Integer({ default: 50, minimum: 1, description: 'Maximum number of registered CA certificates (the built-in CA not counted)' }),
    requireProofOfPossession: Type.Boolean({
      default: false,
      description: 'Refuse CA registrations without a verificationCertificatePem: a certificate signed by the CA key whose subject CN is the registration code (GET /api/v1/cas/registration-code)'
    })
  }, { ...strict, default: {} }),
  runtime: Type.Object({
    heapGrowingPercent: Type.Integer({
      default: 100,
      minimum: 0,
      maximum: 400,
      description: 'How far the V8 heap may grow past its live size before the next full garbage collection, in percent; applied by `certmq serve` to the whole process unless node\'s own command line sets --heap-growing-percent. 0 leaves it to V8, which picks 10–300% at each collection (about 30% was measured under a stream of connects). Fewer full collections cost less CPU per connect; the heap may hold up to this percentage of its live size in garbage before a collection'
    })
  }, { ...strict, default: {} }),
  events: Type.Object({
    retentionDays: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 3650,
      description: 'Events older than this many days are pruned (checked every minute, oldest first, in small batches)'
    }),
    maxEvents: Type.Integer({
      default: 1_000_000,
      minimum: 1000,
      description: 'At most this many events are kept; beyond it the oldest are pruned'
    }),
    rejectionWindowSeconds: Type.Integer({
      default: 60,
      minimum: 1,
      maximum: 86_400,
      description: 'Refused connections of one device (certificate, or address without one) for one reason within this window make one connect.rejected event with a count'
    })
  }, { ...strict, default: {} })
}, { ...strict, default: {} })

export type Config = Static<typeof ConfigSchema>
