/**
 * CERTMQ_* environment variables that certmq does not read. A misspelt variable
 * (CERTMQ_ADMIN_HOTS) would otherwise be a silent no-op that leaves its key at the file's value
 * or the default, as a misspelt key in the file would if the schema allowed unknown keys.
 */
import { CLI_ENV, CONFIG_FILE_ENV, ENV_BINDINGS } from './env.js'

const PREFIX = 'CERTMQ_'

/**
 * One problem line per set CERTMQ_ variable that is neither a config variable, the config file's,
 * one of the CLI's, nor one an admin.tokens entry names in tokenEnv. Names only: the value may be
 * a token.
 */
export function unknownEnvProblems (env: NodeJS.ProcessEnv, tokenEnvNames: readonly string[]): string[] {
  const known = new Set<string>([CONFIG_FILE_ENV, ...CLI_ENV, ...ENV_BINDINGS.map((b) => b.env), ...tokenEnvNames])
  return Object.keys(env)
    // empty is unset, as for every CERTMQ_* variable
    .filter((name) => name.startsWith(PREFIX) && !known.has(name) && env[name] !== undefined && env[name] !== '')
    .sort()
    .map((name) => {
      const near = closest(name, known)
      return `environment variable ${name}: not a certmq variable${near === undefined ? '' : ` (did you mean ${near}?)`}; unset it, or see docs/config.md for the variables`
    })
}

/** The known name within 3 edits of `name` (a typo, a swapped pair of letters), if any. */
function closest (name: string, known: ReadonlySet<string>): string | undefined {
  let best: { name: string, distance: number } | undefined
  for (const candidate of known) {
    const distance = editDistance(name, candidate)
    if (distance <= 3 && (best === undefined || distance < best.distance)) best = { name: candidate, distance }
  }
  return best?.name
}

/** Levenshtein distance. */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
