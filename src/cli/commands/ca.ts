/**
 * `certmq ca …`: register, list, show, update, activate, deactivate and delete CA certificates; the
 * registration code, host binding and CRLs (PRODUCT §2).
 */
import { readFile } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import { derToPem } from '../../pki/pem.js'
import { CertmqError } from '../../errors.js'
import type { CaBody, CaHostsBody, CaListBody, CrlBody } from '../../admin/schemas/ca.js'
import type { CommandContext } from '../index.js'
import { formatDay, formatInstant, orDash, renderFields, renderTable } from '../output.js'

export function registerCaCommands (program: Command, ctx: CommandContext): void {
  const ca = program.command('ca').description('manage CA certificates')

  ca.command('register')
    .description('register a CA certificate')
    .argument('<pem-file>', 'the CA certificate (PEM; - reads standard input)')
    .addOption(new Option('--mode <mode>', 'auto: register unknown device certificates on first connect; manual: reject them')
      .choices(['auto', 'manual'] as const).makeOptionMandatory())
    .option('--no-auto-activate', 'auto-registered certificates start pending_activation instead of active')
    .option('--description <text>', 'free text shown in listings')
    .option('--host <hostnames...>', 'bind the CA to these listener hostnames (TLS SNI)')
    .option('--verification-cert <pem-file>', 'proof of possession: a certificate signed by the CA key whose CN is the registration code')
    .action(async (file: string, opts: { mode: 'auto' | 'manual', autoActivate: boolean, description?: string, host?: string[], verificationCert?: string }) => {
      const certificatePem = await ctx.readPemFile(file)
      const record = await ctx.client().registerCa({
        certificatePem,
        registrationMode: opts.mode,
        autoActivate: opts.autoActivate,
        ...(opts.description === undefined ? {} : { description: opts.description }),
        ...(opts.host === undefined ? {} : { hosts: opts.host }),
        ...(opts.verificationCert === undefined ? {} : { verificationCertificatePem: await ctx.readPemFile(opts.verificationCert) })
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

  ca.command('update')
    .description('change a CA\'s registration mode, auto-activation or description; live sessions stay')
    .argument('<id>', 'CA id (SHA-256 fingerprint)')
    .addOption(new Option('--mode <mode>', 'auto: register unknown device certificates on first connect; manual: reject them')
      .choices(['auto', 'manual'] as const))
    .option('--auto-activate', 'auto-registered certificates start active')
    .option('--no-auto-activate', 'auto-registered certificates start pending_activation')
    .option('--description <text>', 'free text shown in listings')
    .action(async (id: string, opts: { mode?: 'auto' | 'manual', autoActivate?: boolean, description?: string }) => {
      const body = {
        ...(opts.mode === undefined ? {} : { registrationMode: opts.mode }),
        ...(opts.autoActivate === undefined ? {} : { autoActivate: opts.autoActivate }),
        ...(opts.description === undefined ? {} : { description: opts.description })
      }
      if (Object.keys(body).length === 0) {
        throw new CertmqError('VALIDATION_FAILED', 'nothing to change: give --mode, --auto-activate / --no-auto-activate or --description')
      }
      ctx.output().result(await ctx.client().updateCa(id, body), (record) => `updated CA ${record.id}\n${renderCa(record)}`)
    })

  ca.command('registration-code')
    .description('print the registration code: the CN of a verification certificate (proof of possession)')
    .option('--rotate', 'replace it with a new one first')
    .action(async (opts: { rotate?: boolean }) => {
      ctx.output().result(await ctx.client().getRegistrationCode(opts.rotate === true), (body) => `${body.registrationCode}\n`)
    })

  ca.command('hosts')
    .description('show or set the listener hostnames (TLS SNI) a CA is bound to; an unbound CA is trusted on every connection')
    .argument('<id>', 'CA id (SHA-256 fingerprint)')
    .option('--set <hostnames...>', 'bind to exactly these hostnames (at most 50), replacing the binding')
    .option('--clear', 'unbind: trust the CA on every connection')
    .action(async (id: string, opts: { set?: string[], clear?: boolean }) => {
      if (opts.set !== undefined && opts.clear === true) {
        throw new CertmqError('VALIDATION_FAILED', 'use --set or --clear, not both', { options: ['--set', '--clear'] })
      }
      const client = ctx.client()
      const body = opts.clear === true ? await client.setCaHosts(id, []) : opts.set !== undefined ? await client.setCaHosts(id, opts.set) : await client.getCaHosts(id)
      ctx.output().result(body, renderHosts)
    })

  const crl = ca.command('crl').description('revocation lists of a CA')
  crl.command('import')
    .description('import a CRL (PEM or DER) signed by the CA; its serials are rejected at CONNECT')
    .argument('<id>', 'CA id (SHA-256 fingerprint)')
    .argument('<crl-file>', 'the CRL, PEM (X509 CRL) or DER')
    .action(async (id: string, file: string) => {
      const body = await ctx.client().importCrl(id, await readCrlFile(file))
      ctx.output().result(body, (view) => `imported CRL for CA ${view.caId}\n${renderCrl(view)}`)
    })
  crl.command('show')
    .description('show the CRL state of a CA')
    .argument('<id>', 'CA id (SHA-256 fingerprint)')
    .option('--pem', 'print the CRL in force as PEM')
    .action(async (id: string, opts: { pem?: boolean }) => {
      const body = await ctx.client().getCrl(id, opts.pem === true)
      ctx.output().result(body, (view) => opts.pem === true ? view.crlPem ?? '' : renderCrl(view))
    })

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
    ['Hosts (SNI)', ca.hosts.length === 0 ? 'any (unbound)' : ca.hosts.join(', ')],
    ['CRL', ca.crl === undefined ? '-' : crlSummary(ca.crl)],
    ['Created', formatInstant(ca.createdAt)],
    ['Updated', formatInstant(ca.updatedAt)]
  ])
}

function yesNo (value: boolean): string {
  return value ? 'yes' : 'no'
}

function renderHosts (body: CaHostsBody): string {
  return body.hosts.length === 0 ? `CA ${body.caId} is unbound: trusted on every connection\n` : `${body.hosts.join('\n')}\n`
}

function crlSummary (crl: NonNullable<CaBody['crl']>): string {
  const inForce = crl.thisUpdate === null ? 'none in force' : `${crl.revokedCount} revoked, next update ${crl.nextUpdate === null ? '-' : formatInstant(crl.nextUpdate)}`
  return crl.lastError === undefined ? inForce : `${inForce}; last import refused: ${crl.lastError.code} at ${formatInstant(crl.lastError.at)}`
}

function renderCrl (crl: CrlBody): string {
  return renderFields([
    ['CA', crl.caId],
    ['This update', crl.thisUpdate === null ? '-' : formatInstant(crl.thisUpdate)],
    ['Next update', crl.nextUpdate === null ? '-' : formatInstant(crl.nextUpdate)],
    ['Revoked serials', String(crl.revokedCount)],
    ['Imported', crl.importedAt === null ? '-' : formatInstant(crl.importedAt)],
    ['Stale', yesNo(crl.stale)],
    ['Last refused import', crl.lastError === undefined ? '-' : `${crl.lastError.code} at ${formatInstant(crl.lastError.at)}: ${crl.lastError.message}`]
  ])
}

/** A CRL file as PEM text: DER (as `openssl crl -outform DER` writes it) is wrapped here. */
async function readCrlFile (path: string): Promise<string> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new CertmqError('VALIDATION_FAILED', `cannot read CRL file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { path }, { cause: err })
  }
  return bytes.includes('-----BEGIN') ? bytes.toString('utf8') : derToPem(bytes, 'X509 CRL')
}
