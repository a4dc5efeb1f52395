/** `certmq ca …`: register, list, show, activate, deactivate and delete CA certificates (PRODUCT §2). */
import { Option, type Command } from 'commander'
import type { CaBody, CaListBody } from '../../admin/schemas/ca.js'
import type { CommandContext } from '../index.js'
import { formatDay, formatInstant, orDash, renderFields, renderTable } from '../output.js'

export function registerCaCommands (program: Command, ctx: CommandContext): void {
  const ca = program.command('ca').description('manage CA certificates')

  ca.command('register')
    .description('register a CA certificate')
    .argument('<pem-file>', 'the CA certificate (PEM)')
    .addOption(new Option('--mode <mode>', 'auto: register unknown device certificates on first connect; manual: reject them')
      .choices(['auto', 'manual'] as const).makeOptionMandatory())
    .option('--no-auto-activate', 'auto-registered certificates start pending_activation instead of active')
    .option('--description <text>', 'free text shown in listings')
    .action(async (file: string, opts: { mode: 'auto' | 'manual', autoActivate: boolean, description?: string }) => {
      const certificatePem = await ctx.readPemFile(file)
      const record = await ctx.client().registerCa({
        certificatePem,
        registrationMode: opts.mode,
        autoActivate: opts.autoActivate,
        ...(opts.description === undefined ? {} : { description: opts.description })
      })
      ctx.output().result(record, (body) => `registered CA ${body.id}\n${renderCa(body)}`)
    })

  ca.command('list')
    .description('list registered CA certificates')
    .action(async () => {
      ctx.output().result(await ctx.client().listCas(), renderCaList)
    })

  ca.command('show')
    .description('show one CA certificate')
    .argument('<id>', 'CA id (SHA-256 fingerprint)')
    .action(async (id: string) => {
      ctx.output().result(await ctx.client().getCa(id), renderCa)
    })

  for (const action of ['activate', 'deactivate'] as const) {
    ca.command(action)
      .description(action === 'activate'
        ? 'trust the CA again'
        : 'stop trusting the CA: every certificate under it is rejected, live sessions are dropped')
      .argument('<id>', 'CA id (SHA-256 fingerprint)')
      .action(async (id: string) => {
        const record = await ctx.client().transitionCa(id, action)
        ctx.output().result(record, (body) => `CA ${body.id} is now ${body.status}\n`)
      })
  }

  ca.command('delete')
    .description('delete a CA certificate (refused while a certificate under it is active)')
    .argument('<id>', 'CA id (SHA-256 fingerprint)')
    .action(async (id: string) => {
      const record = await ctx.client().deleteCa(id)
      ctx.output().result(record, (body) => `deleted CA ${body.id} (${body.subject})\n`)
    })
}

function renderCaList (body: CaListBody): string {
  if (body.items.length === 0) return 'no CA certificates registered\n'
  return renderTable(
    ['ID', 'STATUS', 'MODE', 'AUTO-ACTIVATE', 'BUILT-IN', 'NOT AFTER', 'COMMON NAME'],
    body.items.map((ca) => [
      ca.id, ca.status, ca.registrationMode, yesNo(ca.autoActivate), yesNo(ca.builtin), formatDay(ca.notAfter), orDash(ca.commonName)
    ])
  )
}

function renderCa (ca: CaBody): string {
  return renderFields([
    ['ID', ca.id],
    ['Status', ca.status],
    ['Registration mode', ca.registrationMode],
    ['Auto-activate', yesNo(ca.autoActivate)],
    ['Built-in', yesNo(ca.builtin)],
    ['Subject', ca.subject],
    ['Serial number', ca.serialNumber],
    ['Not before', formatInstant(ca.notBefore)],
    ['Not after', formatInstant(ca.notAfter)],
    ['Description', orDash(ca.description)],
    ['Created', formatInstant(ca.createdAt)],
    ['Updated', formatInstant(ca.updatedAt)]
  ])
}

function yesNo (value: boolean): string {
  return value ? 'yes' : 'no'
}
