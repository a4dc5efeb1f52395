/** `certmq events`: the audit event log, newest first (issue 4 item 4). */
import { InvalidArgumentError, Option, type Command } from 'commander'
import { DEFAULT_EVENT_PAGE_SIZE, MAX_EVENT_PAGE_SIZE } from '../../domain/event.js'
import { collect, pageSizeUpTo } from '../arguments.js'
import type { EventBody, EventListBody } from '../../admin/schemas/event.js'
import type { EventSearch } from '../api-client.js'
import type { CommandContext } from '../index.js'
import { formatInstant, orDash, renderTable } from '../output.js'

interface EventsOptions {
  type: string[]
  since?: string
  until?: string
  actor?: string
  target?: string
  reason?: string
  limit?: number
  cursor?: string
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function registerEventsCommand (program: Command, ctx: CommandContext): void {
  program.command('events')
    .description('show events, newest first: registrations, status and CA changes, refused connections')
    .addOption(new Option('--type <type>', 'event type, e.g. certificate.revoked or connect.rejected (repeat, or separate with commas)').argParser(collect).default([], 'every type'))
    .option('--since <when>', 'from this ISO 8601 instant, or this long ago: 30s, 15m, 2h, 7d', (value) => parseWhen(value, Date.now()))
    .option('--until <when>', 'up to this ISO 8601 instant, or this long ago', (value) => parseWhen(value, Date.now()))
    .option('--actor <name>', 'who: an admin token name, device or system')
    .option('--target <id>', 'certificate or CA id (SHA-256 fingerprint)')
    .option('--reason <code>', 'reject reason, e.g. revoked or unknown_ca')
    .option('--limit <n>', `page size (default ${DEFAULT_EVENT_PAGE_SIZE}, at most ${MAX_EVENT_PAGE_SIZE})`, pageSizeUpTo(MAX_EVENT_PAGE_SIZE))
    .option('--cursor <cursor>', 'continue after a previous page')
    .action(async (opts: EventsOptions) => {
      const search: EventSearch = {
        ...(opts.type.length === 0 ? {} : { type: opts.type }),
        from: opts.since,
        to: opts.until,
        actor: opts.actor,
        targetId: opts.target,
        reason: opts.reason,
        limit: opts.limit,
        cursor: opts.cursor
      }
      ctx.output().result(await ctx.client().listEvents(search), renderEventList)
    })
}


/** `15m` → the instant 15 minutes before `nowMs`; anything else is passed on for the API to check. */
export function parseWhen (value: string, nowMs: number): string {
  const relative = /^(\d+)([smhd])$/.exec(value)
  if (relative !== null) return new Date(nowMs - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number)).toISOString()
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) throw new InvalidArgumentError('expected an ISO 8601 instant or a duration like 30s, 15m, 2h, 7d')
  return value
}


function renderEventList (body: EventListBody): string {
  const table = body.items.length === 0
    ? 'no events match\n'
    : renderTable(
      ['TIME', 'TYPE', 'ACTOR', 'TARGET', 'REASON', 'COUNT', 'DETAILS'],
      body.items.map((e) => [formatInstant(e.time), e.type, e.actor, targetOf(e), orDash(e.reason), e.count === undefined ? '-' : String(e.count), detailsOf(e)])
    )
  return body.nextCursor === null ? table : `${table}\nmore events: add --cursor ${body.nextCursor}\n`
}

/** The whole id, as `ca list` and `cert list` print it: what `--target` and `cert show` take. */
function targetOf (event: EventBody): string {
  return event.target === null ? '-' : `${event.target.kind} ${event.target.id}`
}

function detailsOf (event: EventBody): string {
  const parts = Object.entries(event.details).filter(([, value]) => value !== null).map(([key, value]) => `${key}=${String(value)}`)
  return parts.length === 0 ? '-' : parts.join(' ')
}
