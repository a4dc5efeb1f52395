/**
 * Which OpenSSL configuration the `certmq serve` process started with, for its server.started
 * line. Node hands OpenSSL its configuration once, before any JavaScript runs, so certmq cannot
 * set it, only report it: the `certmq` command (bin/certmq) starts node with bin/openssl.cnf
 * (one TLS 1.3 session ticket per handshake) unless the operator gave a configuration of their
 * own or node uses the system's OpenSSL. Node's precedence: --openssl-config (command line, then
 * NODE_OPTIONS), then OPENSSL_CONF, then the default openssl.cnf.
 */
import { existsSync } from 'node:fs'

/** Node's spelling of a flag allows `_` for `-`. */
const CONFIG_FLAG = /^--openssl[-_]config(?:=(.*))?$/s
const SHARED_FLAG = /^--openssl[-_]shared[-_]config$/

/**
 * NODE_OPTIONS split as node splits it: on spaces, with "double quotes" around a value that
 * holds spaces and backslash escapes inside them.
 */
export function splitNodeOptions (options: string): string[] {
  const args: string[] = []
  let current = ''
  let quoted = false
  let started = false
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!
    if (quoted && c === '\\' && i + 1 < options.length) { current += options[++i]; continue }
    if (c === '"') { quoted = !quoted; started = true; continue }
    if (c === ' ' && !quoted) {
      if (started) args.push(current)
      current = ''
      started = false
      continue
    }
    current += c
    started = true
  }
  if (started) args.push(current)
  return args
}

interface Found { file?: string, shared: boolean }

/** The last --openssl-config value among node's arguments (an empty one counts as none), and whether --openssl-shared-config is there. */
function scan (args: readonly string[]): Found {
  const found: Found = { shared: false }
  args.forEach((arg, i) => {
    if (SHARED_FLAG.test(arg)) { found.shared = true; return }
    const match = CONFIG_FLAG.exec(arg)
    if (match === null) return
    const value = match[1] ?? args[i + 1]
    if (value !== undefined && value !== '') found.file = value
    else delete found.file
  })
  return found
}

/**
 * `/opt/certmq/bin/openssl.cnf (--openssl-config)`, `/etc/ssl/fips.cnf (OPENSSL_CONF)`, `… (missing:
 * OpenSSL's built-in defaults)`, or the default openssl.cnf with the section node reads. `execArgv`
 * is node's own command line (process.execArgv), which holds no NODE_OPTIONS.
 */
export function describeOpensslConfig (execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync): string {
  const fromOptions = scan(splitNodeOptions(env['NODE_OPTIONS'] ?? ''))
  const fromArgv = scan(execArgv)
  const section = fromArgv.shared || fromOptions.shared ? 'openssl_conf' : 'nodejs_conf'
  const named = (file: string, source: string): string =>
    `${file} (${source}${exists(file) ? '' : '; missing: OpenSSL\'s built-in defaults, two session tickets per TLS 1.3 handshake'})`
  const file = fromArgv.file ?? fromOptions.file
  if (file !== undefined) return named(file, '--openssl-config')
  const opensslConf = env['OPENSSL_CONF']
  if (opensslConf !== undefined && opensslConf !== '') return named(opensslConf, 'OPENSSL_CONF')
  return `the default openssl.cnf, section ${section} (usually none: two session tickets per TLS 1.3 handshake; bin/certmq starts node with bin/openssl.cnf)`
}
