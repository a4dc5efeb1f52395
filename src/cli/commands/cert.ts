/**
 * `certmq cert …`: register, search, show, activate, deactivate, revoke and delete device
 * certificates (PRODUCT §3).
 */
import { Option, type Command } from 'commander'
import { collect, nonNegativeInt, pageSizeUpTo } from '../arguments.js'
import type { CertificateBody, CertificateDetailsBody, CertificateListBody } from '../../admin/schemas/certificate.js'
import { CERT_SOURCES, CERT_STATUSES } from '../../domain/certificate.js'
import { CERTIFICATE_SORT_KEYS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SORT_ORDERS } from '../../domain/query.js'
import { CertmqError } from '../../errors.js'
import type { CertificateSearch } from '../api-client.js'
import type { CommandContext } from '../index.js'
import { formatDay, formatInstant, orDash, renderFields, renderTable } from '../output.js'

interface ListOptions {
  cn?: string
  status: string[]
  ca?: string
  clientId?: string
  serial?: string
  ou?: string
  source?: string
  expiring?: number
  expired?: boolean
  notExpired?: boolean
  notBeforeFrom?: string
  notBeforeTo?: string
  notAfterFrom?: string
  notAfterTo?: string
  sort?: string
  order?: string
  limit?: number
  cursor?: string
  all?: boolean
}

export function registerCertCommands (program: Command, ctx: CommandContext): void {
  const cert = program.command('cert').description('manage device certificates')

  cert.command('register')
    .description('register a device certificate issued by a registered CA')
    .argument('<pem-file>', 'the device certificate (PEM; - reads standard input)')
    .requiredOption('--ca <id>', 'id of the registered CA that issued it')
    .option('--chain <pem-file>', 'the intermediate CA certificates between it and the CA (PEM), when the CA did not issue it directly')
    .option('--client-id <id>', 'Client ID for the device (unique among certificates)')
    .option('--inactive', 'register it inactive instead of active')
    .action(async (file: string, opts: { ca: string, chain?: string, clientId?: string, inactive?: boolean }) => {
      const certificatePem = await ctx.readPemFile(file)
      const chainPem = opts.chain === undefined ? undefined : await ctx.readPemFile(opts.chain)
      const record = await ctx.client().registerCertificate({
        caId: opts.ca,
        certificatePem,
        ...(chainPem === undefined ? {} : { chainPem }),
        activate: opts.inactive !== true,
        ...(opts.clientId === undefined ? {} : { clientId: opts.clientId })
      })
      ctx.output().result(record, (body) => `registered certificate ${body.id}\n${renderCertificate(body)}`)
    })

  cert.command('list')
    .description('search certificates; filters combine (AND); dates are ISO 8601 instants, bounds inclusive')
    .option('--cn <pattern>', 'common name, exact or a prefix ending with * (quote it: \'SN00*\')')
    .addOption(new Option('--status <list>', 'active, inactive, pending_activation, revoked: comma-separated and/or repeated').argParser(collect).default([], 'any'))
    .option('--ca <id>', 'CA id')
    .option('--client-id <id>', 'registered Client ID')
    .option('--serial <hex>', 'serial number')
    .option('--ou <name>', 'organizational unit')
    .addOption(new Option('--source <source>', 'how it was registered').choices(CERT_SOURCES))
    .option('--expiring <days>', 'not expired and notAfter within <days> days from now', nonNegativeInt)
    .addOption(new Option('--expired', 'only certificates whose notAfter has passed').conflicts('notExpired'))
    .option('--not-expired', 'only certificates that have not expired')
    .option('--not-before-from <instant>', 'notBefore at or after, e.g. 2026-01-01T00:00:00Z')
    .option('--not-before-to <instant>', 'notBefore at or before')
    .option('--not-after-from <instant>', 'notAfter at or after')
    .option('--not-after-to <instant>', 'notAfter at or before')
    .addOption(new Option('--sort <key>', 'sort key (without it: by id, the SHA-256 fingerprint)').choices(CERTIFICATE_SORT_KEYS))
    .addOption(new Option('--order <order>', 'sort direction (default asc)').choices(SORT_ORDERS))
    .option('--limit <n>', `page size (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`, pageSizeUpTo(MAX_PAGE_SIZE))
    .option('--cursor <cursor>', 'continue after a previous page of the same search')
    .option('--all', `follow nextCursor and print every page (${MAX_PAGE_SIZE} a page unless --limit)`)
    .action(async (opts: ListOptions) => {
      // checked here like --source and --sort, so a typo is a usage error (exit 2), not a 400 from the API
      const unknown = opts.status.flatMap((list) => list.split(',')).map((s) => s.trim()).filter((s) => s !== '' && !(CERT_STATUSES as readonly string[]).includes(s))
      if (unknown.length > 0) {
        throw new CertmqError('VALIDATION_FAILED', `--status ${unknown.join(', ')}: not a certificate status (one of ${CERT_STATUSES.join(', ')})`, { field: 'status' })
      }
      const search: CertificateSearch = {
        commonName: opts.cn,
        status: opts.status.length === 0 ? undefined : opts.status,
        caId: opts.ca,
        clientId: opts.clientId,
        serialNumber: opts.serial,
        organizationalUnit: opts.ou,
        source: opts.source,
        expiringWithinDays: opts.expiring,
        expired: opts.expired === true ? 'true' : opts.notExpired === true ? 'false' : undefined,
        notBeforeFrom: opts.notBeforeFrom,
        notBeforeTo: opts.notBeforeTo,
        notAfterFrom: opts.notAfterFrom,
        notAfterTo: opts.notAfterTo,
        sort: opts.sort,
        order: opts.order,
        limit: opts.limit ?? (opts.all === true ? MAX_PAGE_SIZE : undefined),
        cursor: opts.cursor
      }
      const client = ctx.client()
      const body = opts.all === true ? await client.listAllCertificates(search) : await client.listCertificates(search)
      ctx.output().result(body, renderCertificateList)
    })

  cert.command('show')
    .description('show one certificate and the clients that used it')
    .argument('<id>', 'certificate id (SHA-256 fingerprint)')
    .action(async (id: string) => {
      ctx.output().result(await ctx.client().getCertificate(id), renderDetails)
    })

  for (const action of ['activate', 'deactivate'] as const) {
    cert.command(action)
      .description(action === 'activate' ? 'let the device connect again' : 'stop the device from connecting; live sessions are dropped')
      .argument('<id>', 'certificate id (SHA-256 fingerprint)')
      .action(async (id: string) => {
        const record = await ctx.client().transitionCertificate(id, action)
        ctx.output().result(record, (body) => `certificate ${body.id} is now ${body.status}\n`)
      })
  }

  cert.command('revoke')
    .description('revoke a certificate for good (irreversible; needs --yes)')
    .argument('<id>', 'certificate id (SHA-256 fingerprint)')
    .option('--yes', 'confirm: the certificate can never be activated again')
    .action(async (id: string, opts: { yes?: boolean }) => {
      if (opts.yes !== true) {
        throw new CertmqError('CONFIRMATION_REQUIRED',
          `revoking certificate ${id} is irreversible: it can never be activated or registered again. Add --yes to confirm`,
          { id })
      }
      const record = await ctx.client().revokeCertificate(id)
      ctx.output().result(record, (body) => `certificate ${body.id} is now ${body.status}\n`)
    })

  cert.command('delete')
    .description('delete a certificate that is not active (a revoked one stays on the deny list)')
    .argument('<id>', 'certificate id (SHA-256 fingerprint)')
    .action(async (id: string) => {
      const record = await ctx.client().deleteCertificate(id)
      ctx.output().result(record, (body) => `deleted certificate ${body.id} (${body.commonName})\n`)
    })
}




function renderCertificateList (body: CertificateListBody): string {
  if (body.total === 0) return 'no certificates match\n'
  const table = body.items.length === 0
    ? ''
    : renderTable(
      ['ID', 'STATUS', 'COMMON NAME', 'CLIENT ID', 'SOURCE', 'SERIAL', 'NOT AFTER'],
      body.items.map((c) => [c.id, c.status, orDash(c.commonName), orDash(c.clientId), c.source, c.serialNumber, formatDay(c.notAfter)])
    )
  const count = `${body.items.length} shown, ${body.total} match\n`
  return body.nextCursor === null ? `${table}${count}` : `${table}${count}more results: add --cursor ${body.nextCursor} (or --all)\n`
}

function renderCertificate (c: CertificateBody): string {
  return renderFields([
    ['ID', c.id],
    ['Status', c.status],
    ['Common name', orDash(c.commonName)],
    ['Organizational unit', orDash(c.organizationalUnit)],
    ['Organization', orDash(c.organization)],
    ['Client ID', orDash(c.clientId)],
    ['Serial number', c.serialNumber],
    ['Subject', c.subject],
    ['Issuer', c.issuer],
    ['CA', c.caId],
    ['Source', c.source],
    ['Key type', c.keyType],
    ['Not before', formatInstant(c.notBefore)],
    ['Not after', formatInstant(c.notAfter)],
    ['Created', formatInstant(c.createdAt)],
    ['Updated', formatInstant(c.updatedAt)]
  ])
}

function renderDetails (c: CertificateDetailsBody): string {
  const clients = c.associatedClients.length === 0
    ? 'Associated clients: none\n'
    : 'Associated clients:\n' + renderTable(
      ['CLIENT ID', 'CONNECTED', 'LAST SEEN', 'REMOTE ADDRESS', 'NODE', 'CONNECTED AT'],
      c.associatedClients.map((a) => [a.clientId, a.connected ? 'yes' : 'no', formatInstant(a.lastSeenAt), a.remoteAddress, a.node, formatInstant(a.connectedAt)])
    )
  return `${renderCertificate(c)}\n${clients}`
}
