/** The CLI's exit codes (listed by `certmq --help`); a module of its own so `serve` loads nothing more for them. */
export const EXIT_OK = 0
/** The admin API answered with an error (4xx/5xx). */
export const EXIT_API_ERROR = 1
/** The command line is wrong: unknown command or option, missing argument, unreadable file, no --yes. */
export const EXIT_USAGE = 2
/** Nothing (or something that is not certmq) answers at the admin URL. */
export const EXIT_UNREACHABLE = 3
/** `simulate`: the broker refused or did not answer the monitor client, so nothing was measured. */
export const EXIT_MONITOR_REFUSED = 4
/** `backup` / `restore`: the file is not a whole certmq backup (BACKUP_INVALID). */
export const EXIT_BACKUP_INVALID = 5
/** `restore`: a certmq runs on the data directory, or it cannot be written (STORE_UNAVAILABLE). */
export const EXIT_STORE_UNAVAILABLE = 6
/** `serve`, `restore`: the configuration is not valid (CONFIG_INVALID); sysexits' EX_CONFIG. */
export const EXIT_CONFIG_INVALID = 78

export const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_OK}  success, also when the reader of stdout stops early (certmq cert list | head)
  ${EXIT_API_ERROR}  the admin API answered with an error (4xx/5xx); stderr shows "error CODE: message"
  ${EXIT_USAGE}  usage error: unknown command or option, missing argument, unreadable file, missing --yes
  ${EXIT_UNREACHABLE}  the admin API cannot be reached (ADMIN_UNREACHABLE)
  ${EXIT_MONITOR_REFUSED}  simulate: the broker refused or did not answer the monitor client (MONITOR_REFUSED)
  ${EXIT_BACKUP_INVALID}  backup, restore: the file is not a whole certmq backup (BACKUP_INVALID)
  ${EXIT_STORE_UNAVAILABLE}  restore: certmq runs on the data directory, or it cannot be written (STORE_UNAVAILABLE)
serve: 0 stopped by SIGINT/SIGTERM, ${EXIT_CONFIG_INVALID} invalid configuration, 1 any other start failure or a stop that failed
restore: ${EXIT_CONFIG_INVALID} invalid configuration (its dataDir cannot be known)
`
