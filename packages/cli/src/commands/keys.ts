/**
 * `keyward keys create|list|get|revoke|rotate|delete`: the key lifecycle of `keyward.keys`
 * (docs/architecture.md, "Rotation chains" for what rotate leaves behind). The plaintext key is
 * printed by `create` and `rotate` only, once, with a note that it will not be shown again.
 */
import type { CreateKeyInput, Environment } from '@keyward/core'
import { type Command, Option } from 'commander'
import {
  collect,
  formatDuration,
  oneOrMany,
  parseCount,
  parseDuration,
  parseExpiry,
  parseJsonObject,
  parseRate,
  parseRefill,
} from '../arguments.ts'
import type { CreatedKeyView, KeyPage, KeyView } from '../backend/backend.ts'
import { CliError, ExitCode, usageError } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { formatTime, keyFields, keyState } from '../output/describe.ts'
import { renderFields, renderTable } from '../output/table.ts'
import { addBackendOptions, type BackendOptions, Printer, withBackend } from './context.ts'

interface CreateOptions extends BackendOptions {
  owner: string
  name?: string
  scope?: string[]
  rate?: { points: number; duration: number }[]
  credits?: number
  refill?: { amount: number; interval: number }
  expires?: string
  env?: Environment
  network?: string[]
  meta?: Record<string, unknown>
  reason?: string
}

interface ListOptions extends BackendOptions {
  owner: string
  limit?: number
  cursor?: string
}

interface ChangeOptions extends BackendOptions {
  reason?: string
}

interface RotateOptions extends ChangeOptions {
  grace: number
  expires?: string
}

const SHOWN_ONCE =
  'This is the only time the key is shown: keyward stores only its hash. Keep it somewhere safe now.'

function notFound(id: string): CliError {
  return new CliError(`no key with id ${JSON.stringify(id)}`, ExitCode.FAILED)
}

/** The lines around a new key: the key on a line of its own, then the once-only note. */
function announceKey(headline: string, created: CreatedKeyView): string {
  return `${headline}\n\n  ${created.key}\n\n${SHOWN_ONCE}\n\n`
}

export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program
    .command('keys')
    .description('create, list, inspect, rotate, revoke and delete API keys')
  const audit = (options: ChangeOptions) =>
    options.reason === undefined ? { actor: io.actor } : { actor: io.actor, reason: options.reason }

  addBackendOptions(
    keys
      .command('create')
      .description('mint a key for an owner; prints the key once')
      .requiredOption('--owner <id>', 'the owner (customer, organisation) the key belongs to')
      .option('--name <name>', 'a label for people, e.g. billing-sync')
      .option('--scope <scope>', 'a scope the key grants, e.g. orders:read (repeatable)', collect(String))
      .option(
        '--rate <points/window>',
        'a rate limit, e.g. 100/1m, 10/1s, 1000/1h (repeatable: all apply)',
        collect((text) => parseRate(text)),
      )
      .option('--credits <n>', 'credits the key may spend (one per request by default)', (text) =>
        parseCount(text, '--credits'),
      )
      .option(
        '--refill <credits/interval>',
        'top the credits up to this every interval, e.g. 1000/30d',
        (text) => parseRefill(text),
      )
      .option('--expires <when>', 'expiry: a duration from now (30d, 12h) or a date (2027-01-31)')
      .addOption(new Option('--env <environment>', 'live or test').choices(['live', 'test']))
      .option('--network <cidr>', 'only from this network, e.g. 203.0.113.0/24 (repeatable)', collect(String))
      .option('--meta <json>', 'a JSON object kept with the key, e.g. \'{"plan":"pro"}\'', (text) =>
        parseJsonObject(text, '--meta'),
      )
      .option('--reason <text>', 'why, for the audit trail'),
  ).action(async (options: CreateOptions, command: Command) => {
    const input: CreateKeyInput = { ownerId: options.owner }
    if (options.name !== undefined) input.name = options.name
    if (options.scope !== undefined) input.scopes = options.scope
    if (options.rate !== undefined) input.rateLimit = oneOrMany(options.rate)
    if (options.refill !== undefined && options.credits === undefined) {
      throw usageError('--refill needs --credits (the credits the key starts with)')
    }
    if (options.credits !== undefined) {
      input.credits =
        options.refill === undefined
          ? { remaining: options.credits }
          : { remaining: options.credits, refill: options.refill }
    }
    if (options.expires !== undefined) input.expiresAt = parseExpiry(options.expires, io.now())
    if (options.env !== undefined) input.environment = options.env
    if (options.network !== undefined) input.allowedNetworks = options.network
    if (options.meta !== undefined) input.meta = options.meta
    const print = new Printer(io, options)
    const created = await withBackend(io, command, (backend) => backend.createKey(input, audit(options)))
    if (print.json) return print.data(created)
    print.text(
      announceKey(`Created key ${created.record.id} for ${created.record.ownerId}.`, created) +
        renderFields(keyFields(created.record, io.now())),
    )
  })

  addBackendOptions(
    keys
      .command('list')
      .description("list an owner's keys, oldest first")
      .requiredOption('--owner <id>', 'whose keys')
      .option('--limit <n>', 'page size, 1–1000 (default 100)', (text) =>
        parseCount(text, '--limit', 1, 1000),
      )
      .option('--cursor <cursor>', 'where the previous page ended'),
  ).action(async (options: ListOptions, command: Command) => {
    const print = new Printer(io, options)
    const page: KeyPage = await withBackend(io, command, (backend) =>
      backend.listKeys({
        ownerId: options.owner,
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      }),
    )
    if (print.json) return print.data(page)
    if (page.items.length === 0) {
      print.note(
        `no keys for owner ${JSON.stringify(options.owner)}${options.cursor === undefined ? '' : ' after this cursor'}`,
      )
      return
    }
    print.text(renderKeyTable(page.items, io.now()))
    if (page.cursor !== null) {
      print.note(`more: keyward keys list --owner ${options.owner} --cursor ${page.cursor}`)
    }
  })

  addBackendOptions(keys.command('get').description("show a key's record").argument('<id>', 'key id')).action(
    async (id: string, options: BackendOptions, command: Command) => {
      const print = new Printer(io, options)
      const key = await withBackend(io, command, (backend) => backend.getKey(id))
      if (key === null) throw notFound(id)
      if (print.json) return print.data(key)
      print.text(renderFields(keyFields(key, io.now())))
    },
  )

  addBackendOptions(
    keys
      .command('revoke')
      .description('revoke a key: it stops working at once, everywhere')
      .argument('<id>', 'key id')
      .option('--reason <text>', 'why, for the audit trail'),
  ).action(async (id: string, options: ChangeOptions, command: Command) => {
    const print = new Printer(io, options)
    const key = await withBackend(io, command, (backend) => backend.revokeKey(id, audit(options)))
    if (print.json) return print.data(key)
    print.text(`Revoked key ${key.id} (${key.ownerId}) at ${formatTime(key.revokedAt)}.`)
  })

  addBackendOptions(
    keys
      .command('rotate')
      .description('replace a key with a new one; prints the new key once')
      .argument('<id>', 'key id')
      .addOption(
        new Option('--grace <duration>', 'how long the old key keeps working, e.g. 24h')
          .default(0, '0: revoked at once')
          .argParser((text) => parseDuration(text, '--grace')),
      )
      .option('--expires <when>', "expiry of the new key (default: the old key's)")
      .option('--reason <text>', 'why, for the audit trail'),
  ).action(async (id: string, options: RotateOptions, command: Command) => {
    const print = new Printer(io, options)
    const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires, io.now())
    const rotated = await withBackend(io, command, (backend) =>
      backend.rotateKey(id, {
        ...audit(options),
        gracePeriodMs: options.grace,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      }),
    )
    if (print.json) return print.data(rotated)
    const previous = rotated.previous
    const fate =
      options.grace === 0
        ? `The old key ${previous.id} was revoked at once.`
        : `The old key ${previous.id} keeps working until ${formatTime(previous.expiresAt)} (grace ${formatDuration(options.grace)}), sharing the new key's limits and credits.`
    print.text(
      announceKey(`Rotated key ${previous.id} → ${rotated.record.id} (${rotated.record.ownerId}).`, rotated) +
        `${fate}\n\n${renderFields(keyFields(rotated.record, io.now()))}`,
    )
  })

  addBackendOptions(
    keys
      .command('delete')
      .description('delete a key for good (its id then answers NOT_FOUND)')
      .argument('<id>', 'key id')
      .option('--reason <text>', 'why, for the audit trail'),
  ).action(async (id: string, options: ChangeOptions, command: Command) => {
    const print = new Printer(io, options)
    const key = await withBackend(io, command, (backend) => backend.deleteKey(id, audit(options)))
    if (print.json) return print.data(key)
    print.text(`Deleted key ${key.id} (${key.ownerId}).`)
  })
}

/** One row per key: what an operator scans a list for. */
function renderKeyTable(keys: readonly KeyView[], now: number): string {
  const withLastUsed = keys.some((key) => key.lastUsedAt !== undefined)
  const columns = [
    { header: 'ID' },
    { header: 'NAME' },
    { header: 'ENV' },
    { header: 'STATUS' },
    { header: 'SCOPES' },
    { header: 'CREDITS', align: 'right' as const },
    { header: 'EXPIRES' },
    { header: 'CREATED' },
    ...(withLastUsed ? [{ header: 'LAST USED' }] : []),
  ]
  const rows = keys.map((key) => [
    key.id,
    key.name ?? '-',
    key.environment,
    keyState(key, now),
    key.scopes.length === 0 ? '-' : key.scopes.join(','),
    key.credits === null ? '-' : String(key.credits.remaining),
    key.expiresAt === null ? 'never' : formatTime(key.expiresAt),
    formatTime(key.createdAt),
    ...(withLastUsed ? [key.lastUsedAt == null ? 'never' : formatTime(key.lastUsedAt)] : []),
  ])
  return renderTable(columns, rows)
}
