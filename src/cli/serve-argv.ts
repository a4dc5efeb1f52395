/**
 * `certmq serve` and `certmq serve --config <path>` (or `--config=<path>`) as main.ts sees them,
 * so it can start the broker without loading the operator commands, their argument parser and
 * the simulator: modules stay in the heap for the life of the process, and every full garbage
 * collection of the broker's thread marks them. Anything else (help, a typo, other options) goes
 * through the full command table, which gives the usual usage errors.
 */
export function directServeOptions (argv: readonly string[]): { config?: string } | undefined {
  if (argv[0] !== 'serve') return undefined
  if (argv.length === 1) return {}
  if (argv.length === 2 && argv[1]!.startsWith('--config=') && argv[1]!.length > '--config='.length) return { config: argv[1]!.slice('--config='.length) }
  if (argv.length === 3 && argv[1] === '--config' && argv[2] !== '' && !argv[2]!.startsWith('-')) return { config: argv[2]! }
  return undefined
}
