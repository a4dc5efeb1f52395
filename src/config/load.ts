/**
 * Reads broker.config.json (or CERTMQ_CONFIG / --config), overlays the environment variables of
 * env.ts, validates everything against the schema and reports every problem at once, each line
 * naming the key, where the value came from, what was expected and what was found.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import { CertmqError } from '../errors.js'
import { isDnsName } from '../domain/dns-name.js'
import { ConfigSchema, type Config } from './schema.js'
import { CONFIG_FILE_ENV, ENV_BINDINGS, type EnvBinding } from './env.js'
import { isSecretKey, resolveAdminTokens } from './admin-tokens.js'
import { deepFreeze } from './freeze.js'
import { unknownEnvProblems } from './unknown-env.js'

export const DEFAULT_CONFIG_FILE = 'broker.config.json'

export interface LoadOptions {
  /** Explicit path (the CLI's --config); wins over CERTMQ_CONFIG. */
  configPath?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface LoadedConfig {
  config: Readonly<Config>
  /** The file that was read, or null when none exists and defaults were used. */
  file: string | null
}

type Json = Record<string, unknown>

export function loadConfig (options: LoadOptions = {}): LoadedConfig {
  return load(options, true)
}

/**
 * The data directory the configuration names, for `certmq restore`: the file and the environment
 * are read and checked as for a start, except what only a start reads, the variables admin.tokens
 * entries name in tokenEnv (set for the service, seldom in an operator's shell) and the TLS files.
 */
export function loadDataDir (options: LoadOptions = {}): string {
  return load(options, false).config.dataDir
}

function load (options: LoadOptions, forStart: boolean): LoadedConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const fromEnv = env[CONFIG_FILE_ENV]
  // empty is unset, as for every other CERTMQ_* variable: resolved as a path it would name the
  // working directory and stop the start (EISDIR) instead of reading the default file
  const explicit = options.configPath ?? (fromEnv === '' ? undefined : fromEnv)
  const file = resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE)
  const fileSource = explicit === undefined ? file : (options.configPath !== undefined ? file : `${file} (from ${CONFIG_FILE_ENV})`)

  const raw = readConfigFile(file, explicit !== undefined, fileSource)
  const data: Json = raw ?? {}
  const sources = new Map<string, string>()
  const problems: string[] = []

  for (const binding of ENV_BINDINGS) {
    const value = env[binding.env]
    if (value === undefined || value === '') continue
    const coerced = coerceEnv(binding, value)
    if (coerced.ok) {
      setPath(data, binding.key, coerced.value)
      sources.set(binding.key, binding.env)
    } else {
      problems.push(`config ${binding.key} (from ${binding.env}): must be ${coerced.expected}, found ${JSON.stringify(value)}`)
    }
  }

  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false })
  const validate = ajv.compile(ConfigSchema)
  if (!validate(data)) {
    for (const err of validate.errors ?? []) {
      problems.push(describeAjvError(err, data, sources, raw === undefined ? 'defaults' : fileSource))
    }
  }
  const source = raw === undefined ? 'defaults' : fileSource
  if (forStart) {
    problems.push(...resolveAdminTokens(data, env, source, sources.get('admin.token') ?? source))
    problems.push(...checkTlsFiles(data, cwd, (key) => sources.get(key) ?? source))
  }
  problems.push(...checkServerNames(data, source))
  problems.push(...unknownEnvProblems(env, tokenEnvNames(data)))
  if (problems.length > 0) {
    const message = `configuration is invalid:\n  ${problems.join('\n  ')}`
    throw new CertmqError('CONFIG_INVALID', message, { problems })
  }
  return { config: deepFreeze(data as unknown as Config), file: raw === undefined ? null : file }
}

/**
 * mqtts.certFile and mqtts.keyFile go together and must be readable: checked here, with the other
 * problems and their sources, before anything is created in the data directory.
 */
function checkTlsFiles (data: Json, cwd: string, sourceOf: (key: string) => string): string[] {
  const mqtts = (data['mqtts'] ?? {}) as Json
  const given = (['certFile', 'keyFile'] as const).flatMap((name) => {
    const path = mqtts[name]
    return typeof path === 'string' && path !== '' ? [{ key: `mqtts.${name}`, path }] : []
  })
  if (given.length === 1) {
    const { key } = given[0]!
    const other = key === 'mqtts.certFile' ? 'mqtts.keyFile' : 'mqtts.certFile'
    return [`config ${key} (from ${sourceOf(key)}): needs ${other} too (the certificate and its key go together), or neither`]
  }
  return given.flatMap(({ key, path }) => {
    try {
      const file = resolve(cwd, path)
      accessSync(file, constants.R_OK)
      // a directory passes the access check and fails only when the server reads it, after the
      // data directory is made, as TLS_SETUP_FAILED without the setting's source
      if (statSync(file).isDirectory()) return [`config ${key} (from ${sourceOf(key)}): cannot read ${path} (EISDIR: a directory, not a PEM file)`]
      return []
    } catch (err) {
      return [`config ${key} (from ${sourceOf(key)}): cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]
    }
  })
}

/**
 * mqtts.serverNames go into the generated server certificate: an entry that is neither a DNS name
 * nor an IP address would be left out of it without a word, and devices that connect by that
 * name would fail to verify the server.
 */
function checkServerNames (data: Json, source: string): string[] {
  const names = ((data['mqtts'] ?? {}) as Json)['serverNames']
  if (!Array.isArray(names)) return []
  return names.flatMap((name: unknown, i) => typeof name !== 'string' || name === '' || isIP(name) !== 0 || isDnsName(name)
    ? [] // the schema reports a wrong type or an empty name
    : [`config mqtts.serverNames.${i} (from ${source}): must be a DNS name (a leading *. allowed) or an IP address, found ${JSON.stringify(name)}`])
}

/** The variables admin.tokens entries name in tokenEnv: certmq reads them, whatever their names. */
function tokenEnvNames (data: Json): string[] {
  const tokens = ((data['admin'] ?? {}) as Json)['tokens']
  if (!Array.isArray(tokens)) return []
  return tokens.flatMap((entry: unknown) => {
    const name = entry !== null && typeof entry === 'object' ? (entry as Json)['tokenEnv'] : undefined
    return typeof name === 'string' ? [name] : []
  })
}

function readConfigFile (file: string, required: boolean, source: string): Json | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CertmqError('CONFIG_INVALID', `config file ${source}: cannot be read (${(err as Error).message})`, { file }, { cause: err })
  }
  let parsed: unknown
  try {
    // a byte order mark, as some Windows editors save UTF-8, is not JSON but not content either
    // (node's own require of a .json file drops it too); JSON.parse would name an invisible token
    parsed = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text)
  } catch (err) {
    throw new CertmqError('CONFIG_INVALID', `config file ${source}: not valid JSON (${(err as Error).message})`, { file }, { cause: err })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CertmqError('CONFIG_INVALID', `config file ${source}: must hold a JSON object`, { file })
  }
  return parsed as Json
}

function coerceEnv (binding: EnvBinding, value: string):
  { ok: true; value: unknown } | { ok: false; expected: string } {
  switch (binding.type) {
    case 'string': return { ok: true, value }
    case 'integer': return /^-?\d+$/.test(value.trim()) ? { ok: true, value: Number(value) } : { ok: false, expected: 'an integer' }
    case 'boolean': {
      const v = value.trim().toLowerCase()
      if (v === 'true' || v === '1') return { ok: true, value: true }
      if (v === 'false' || v === '0') return { ok: true, value: false }
      return { ok: false, expected: 'true or false' }
    }
  }
}

function describeAjvError (err: ErrorObject, data: Json, sources: Map<string, string>, fileSource: string): string {
  const segments = err.instancePath.split('/').filter(Boolean)
  if (err.keyword === 'additionalProperties') {
    const extra = String((err.params as { additionalProperty: string }).additionalProperty)
    const key = [...segments, extra].join('.')
    return `config ${key} (from ${fileSource}): unknown key`
  }
  const key = segments.join('.') || '(root)'
  const source = sources.get(key) ?? fileSource
  // a secret is never printed, not even when it is in the wrong place
  const found = isSecretKey(key) ? '(value hidden)' : JSON.stringify(getPath(data, segments))
  const expected = err.keyword === 'enum'
    ? `must be one of ${((err.params as { allowedValues: unknown[] }).allowedValues).join(', ')}`
    : (err.message ?? err.keyword)
  return `config ${key} (from ${source}): ${expected}, found ${found}`
}

/**
 * Sets `path` to `value`, making the missing sections on the way. A section the file gave as
 * something else (`"mqtts": "0.0.0.0:8883"`) is left for the schema to report: replacing it would
 * drop the file's mistake without a word whenever one of its variables is set.
 */
function setPath (obj: Json, path: string, value: unknown): void {
  const parts = path.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === undefined) cur[part] = {}
    const next = cur[part]
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return
    cur = next as Json
  }
  cur[parts[parts.length - 1] as string] = value
}

function getPath (obj: unknown, segments: string[]): unknown {
  let cur = obj
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Json)[s]
  }
  return cur
}
