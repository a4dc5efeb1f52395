/**
 * Which OpenSSL configuration the `certmq serve` process started with, for its server.started
 * line. Node hands OpenSSL its configuration once, before any JavaScript runs, so certmq cannot
 * set it, only report it: the `certmq` command (bin/certmq) starts node with bin/openssl.cnf
 * (one TLS 1.3 session ticket per handshake), unless the operator's own configuration is given.
 * Node's precedence: --openssl-config (command line, then NODE_OPTIONS), then OPENSSL_CONF.
 */

const FLAG = '--openssl-config'

/** The value of `--openssl-config=X` or `--openssl-config X` among node's arguments, the last one given. */
function flagValue (args: readonly string[]): string | undefined {
  let value: string | undefined
  args.forEach((arg, i) => {
    if (arg.startsWith(`${FLAG}=`)) value = arg.slice(FLAG.length + 1)
    else if (arg === FLAG && args[i + 1] !== undefined) value = args[i + 1]
  })
  return value
}

/**
 * `/opt/certmq/bin/openssl.cnf (--openssl-config)`, `/etc/ssl/fips.cnf (OPENSSL_CONF)`, or
 * `none (OpenSSL's defaults: …)`. `execArgv` is node's own command line (process.execArgv), which
 * holds no NODE_OPTIONS.
 */
export function describeOpensslConfig (execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): string {
  const given = flagValue(execArgv) ?? flagValue((env['NODE_OPTIONS'] ?? '').split(/\s+/))
  if (given !== undefined) return `${given} (${FLAG})`
  const opensslConf = env['OPENSSL_CONF']
  if (opensslConf !== undefined && opensslConf !== '') return `${opensslConf} (OPENSSL_CONF)`
  return 'none (OpenSSL\'s defaults: 2 session tickets per TLS 1.3 handshake; bin/certmq starts node with bin/openssl.cnf)'
}
