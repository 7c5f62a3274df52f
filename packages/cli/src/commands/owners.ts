/**
 * `keyward owners get|set|delete`: an owner's limits and credit pool, shared by all of its keys
 * (docs/architecture.md, "Owners"). `set` replaces the whole record, like `keyward.owners.set`.
 */
import type { OwnerInput } from '@keyward/core'
import type { Command } from 'commander'
import { collect, oneOrMany, parseCount, parseJsonObject, parseRate, parseRefill } from '../arguments.ts'
import { CliError, ExitCode, usageError } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { ownerFields } from '../output/describe.ts'
import { renderFields } from '../output/table.ts'
import { addBackendOptions, type BackendOptions, Printer, withBackend } from './context.ts'

interface SetOptions extends BackendOptions {
  rate?: { points: number; duration: number }[]
  credits?: number
  refill?: { amount: number; interval: number }
  meta?: Record<string, unknown>
  reason?: string
}

interface DeleteOptions extends BackendOptions {
  reason?: string
}

export function registerOwnersCommands(program: Command, io: CliIo): void {
  const owners = program
    .command('owners')
    .description("an owner's rate limits and credit pool, shared by all of its keys")

  addBackendOptions(
    owners.command('get').description("show an owner's record").argument('<id>', 'owner id'),
  ).action(async (id: string, options: BackendOptions, command: Command) => {
    const print = new Printer(io, options)
    const owner = await withBackend(io, command, (backend) => backend.getOwner(id))
    if (owner === null) throw new CliError(`owner ${JSON.stringify(id)} has no record`, ExitCode.FAILED)
    if (print.json) return print.data(owner)
    print.text(renderFields(ownerFields(owner)))
  })

  addBackendOptions(
    owners
      .command('set')
      .description("create or replace an owner's record (fields not given are cleared)")
      .argument('<id>', 'owner id')
      .option(
        '--rate <points/window>',
        "a limit shared by all the owner's keys, e.g. 1000/1m (repeatable)",
        collect((text) => parseRate(text)),
      )
      .option('--credits <n>', 'a credit pool for keys without their own', (text) =>
        parseCount(text, '--credits'),
      )
      .option(
        '--refill <credits/interval>',
        'top the pool up to this every interval, e.g. 50000/30d',
        (text) => parseRefill(text),
      )
      .option('--meta <json>', 'a JSON object kept with the owner', (text) => parseJsonObject(text, '--meta'))
      .option('--reason <text>', 'why, for the audit trail'),
  ).action(async (id: string, options: SetOptions, command: Command) => {
    const input: OwnerInput = {}
    if (options.rate !== undefined) input.rateLimit = oneOrMany(options.rate)
    if (options.refill !== undefined && options.credits === undefined) {
      throw usageError('--refill needs --credits (the credits the pool starts with)')
    }
    if (options.credits !== undefined) {
      input.credits =
        options.refill === undefined
          ? { remaining: options.credits }
          : { remaining: options.credits, refill: options.refill }
    }
    if (options.meta !== undefined) input.meta = options.meta
    const print = new Printer(io, options)
    const audit =
      options.reason === undefined ? { actor: io.actor } : { actor: io.actor, reason: options.reason }
    const owner = await withBackend(io, command, (backend) => backend.setOwner(id, input, audit))
    if (print.json) return print.data(owner)
    print.text(renderFields(ownerFields(owner)))
  })

  addBackendOptions(
    owners
      .command('delete')
      .description("delete an owner's record and pool (its keys stay, limited by their own settings)")
      .argument('<id>', 'owner id')
      .option('--reason <text>', 'why, for the audit trail'),
  ).action(async (id: string, options: DeleteOptions, command: Command) => {
    const print = new Printer(io, options)
    const audit =
      options.reason === undefined ? { actor: io.actor } : { actor: io.actor, reason: options.reason }
    const owner = await withBackend(io, command, (backend) => backend.deleteOwner(id, audit))
    if (print.json) return print.data(owner)
    print.text(`Deleted owner ${owner.id}: its keys are now limited by their own settings only.`)
  })
}
