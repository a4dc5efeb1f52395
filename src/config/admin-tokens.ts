/**
 * Checks of admin.tokens that a JSON Schema cannot express, and the reading of `tokenEnv`
 * (config/ is the only place that reads the environment). After this, every entry carries
 * `tokenSha256` and nothing downstream ever sees a token itself.
 */
import { createHash } from 'node:crypto'
import { ACTOR_ADMIN, ACTOR_DEVICE, ACTOR_SYSTEM } from '../domain/event.js'
import { isBearerToken, MIN_TOKEN_LENGTH, TOKEN_CHARACTERS, TOKEN_RULE } from '../domain/bearer-token.js'

/** The name admin.token (or the generated token) goes by: the actor of its changes in events. */
export const BUILTIN_TOKEN_NAME = ACTOR_ADMIN

type Entry = Record<string, unknown>

/**
 * A conventional environment variable name (upper case, digits, underscore). The schema takes
 * lower case too; a name outside this one is not repeated in a problem line, since a token pasted
 * by mistake (certmq's own are mixed case) could fit the schema's pattern.
 */
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/

/** Event actors that are not tokens: a token with one of these names could pass for them. */
const RESERVED_ACTORS: readonly string[] = [ACTOR_DEVICE, ACTOR_SYSTEM]

/**
 * Config keys whose values are secrets, or may be one pasted by mistake (a token in place of its
 * hash): problem lines name them without the value found.
 */
export function isSecretKey (key: string): boolean {
  // the list and each entry too: a problem with either prints the whole value, token included;
  // and admin itself, which holds the token when written as `"admin": "<token>"`
  return /^admin$|^admin\.token$|^admin\.tokens(\.\d+(\.tokenSha256|\.tokenEnv)?)?$/.test(key)
}

/**
 * Checks admin.token (`tokenSource`: where it came from, e.g. CERTMQ_ADMIN_TOKEN) the way the
 * admin API will read it, so a token the API could never accept stops the start instead of
 * answering every call with 401. Then resolves each admin.tokens entry's `tokenEnv` into
 * `tokenSha256` in place. Returns one problem line per bad value, each naming the key
 * (`admin.tokens.1.tokenEnv`) and where the value came from.
 */
export function resolveAdminTokens (data: Record<string, unknown>, env: NodeJS.ProcessEnv, source: string, tokenSource = source): string[] {
  const admin = data['admin'] as Entry | undefined
  const problems: string[] = []
  const token = admin?.['token']
  // a short token is warned about at start (server.ts), not refused: it works, and refusing it would stop a running deployment on upgrade
  if (typeof token === 'string' && token !== '' && !isBearerToken(token)) {
    problems.push(`config admin.token (from ${tokenSource}): may hold only ${TOKEN_CHARACTERS}, what a bearer token can carry; leave it empty to have one generated`)
  }
  const adminHash = typeof token === 'string' && token !== '' ? sha256Hex(token) : undefined
  const tokens = admin?.['tokens']
  if (!Array.isArray(tokens)) return problems
  const names = new Map<string, number>()
  const hashes = new Map<string, number>()
  tokens.forEach((raw: unknown, i) => {
    if (raw === null || typeof raw !== 'object') return // the schema reported it
    const entry = raw as Entry
    const key = `admin.tokens.${i}`
    const name = entry['name']
    if (typeof name === 'string') {
      if (name === BUILTIN_TOKEN_NAME) {
        problems.push(`config ${key}.name (from ${source}): "${BUILTIN_TOKEN_NAME}" is reserved for admin.token, choose another name`)
      } else if (RESERVED_ACTORS.includes(name)) {
        problems.push(`config ${key}.name (from ${source}): "${name}" is reserved for events certmq records itself, choose another name`)
      } else if (names.has(name)) {
        problems.push(`config ${key}.name (from ${source}): "${name}" is already the name of admin.tokens.${names.get(name)}`)
      } else {
        names.set(name, i)
      }
    }
    const hasHash = typeof entry['tokenSha256'] === 'string'
    const tokenEnv = entry['tokenEnv']
    if (hasHash === (tokenEnv !== undefined)) {
      problems.push(`config ${key} (from ${source}): set exactly one of tokenSha256 and tokenEnv`)
      return
    }
    if (typeof tokenEnv === 'string') {
      const token = env[tokenEnv]
      if (token === undefined || token === '') {
        // a token pasted here by mistake is not named back: only what can be a variable's name is
        const named = ENV_NAME.test(tokenEnv) ? `environment variable ${tokenEnv}` : 'the environment variable it names (not a variable name; is it the token itself?)'
        problems.push(`config ${key}.tokenEnv (from ${source}): ${named} is not set`)
        return
      }
      if (!isBearerToken(token) || token.length < MIN_TOKEN_LENGTH) {
        // never print the value: it is a secret
        problems.push(`config ${key}.tokenEnv (from ${source}): ${tokenEnv} must hold ${TOKEN_RULE}`)
        return
      }
      entry['tokenSha256'] = sha256Hex(token)
    }
    const hash = entry['tokenSha256']
    if (typeof hash !== 'string') return
    const twin = hashes.get(hash)
    if (hash === adminHash) {
      // the same token would authenticate as `admin`, never as this name and role
      problems.push(`config ${key} (from ${source}): the same token as admin.token; each name needs its own token`)
    } else if (twin !== undefined) {
      problems.push(`config ${key} (from ${source}): the same token as admin.tokens.${twin}; each name needs its own token`)
    } else {
      hashes.set(hash, i)
    }
  })
  return problems
}

/** A token as the config keeps it (tokenSha256) and the admin API compares it. */
function sha256Hex (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}
