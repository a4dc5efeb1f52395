/**
 * The configuration schema: the single source of the Config type, its defaults and the
 * description of every key (docs/config.md is generated from it). Every object forbids unknown
 * keys, so a misspelt key is an error rather than a silent no-op.
 */
import { Type, type Static } from '@sinclair/typebox'

const strict = { additionalProperties: false } as const

/** A string enum as one JSON Schema `enum`, so a bad value gives one error that lists the choices. */
function stringEnum<T extends string> (values: readonly T[], options: { default: T; description: string }) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options })
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const ConfigSchema = Type.Object({
  nodeName: Type.String({
    default: '',
    description: 'Name of this broker node in logs and associated clients; empty means the host name'
  }),
  dataDir: Type.String({
    default: './data',
    minLength: 1,
    description: 'Directory of the embedded store, the built-in CA and the generated TLS files'
  }),
  logLevel: stringEnum(LOG_LEVELS, { default: 'info', description: 'pino log level' }),
  mqtts: Type.Object({
    host: Type.String({ default: '0.0.0.0', description: 'Address the MQTTS listener binds to' }),
    port: Type.Integer({ default: 8883, minimum: 0, maximum: 65535, description: 'MQTTS port; 0 picks a free one' }),
    certFile: Type.String({
      default: '',
      description: 'PEM server certificate (chain) for the listener; empty means one issued by the built-in CA'
    }),
    keyFile: Type.String({ default: '', description: 'PEM private key matching mqtts.certFile' }),
    serverNames: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Extra DNS names for the generated server certificate (localhost, 127.0.0.1 and the host name are always in it)'
    }),
    handshakeTimeoutMs: Type.Integer({ default: 10_000, minimum: 100, description: 'TLS handshake timeout' }),
    connectTimeoutMs: Type.Integer({ default: 30_000, minimum: 100, description: 'Time a client has to send CONNECT after TLS' })
  }, { ...strict, default: {} }),
  admin: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'Address the admin HTTP API binds to; keep it on localhost unless it is behind TLS' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'Admin HTTP API port; 0 picks a free one' }),
    token: Type.String({
      default: '',
      description: 'Admin bearer token; empty means one is generated on first start, shown once and stored only as a hash. Prefer CERTMQ_ADMIN_TOKEN to writing it here'
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
  clientId: Type.Object({
    strict: Type.Boolean({
      default: false,
      description: 'Reject (CONNACK 2) a CONNECT whose non-empty client ID is neither the registered Client ID nor the subject CN'
    })
  }, { ...strict, default: {} }),
  cas: Type.Object({
    max: Type.Integer({ default: 50, minimum: 1, description: 'Maximum number of registered CA certificates (the built-in CA not counted)' }),
    requireProofOfPossession: Type.Boolean({
      default: false,
      description: 'Refuse CA registrations without a verificationCertificatePem: a certificate signed by the CA key whose subject CN is the registration code (GET /api/v1/cas/registration-code)'
    })
  }, { ...strict, default: {} })
}, { ...strict, default: {} })

export type Config = Static<typeof ConfigSchema>
