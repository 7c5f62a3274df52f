/**
 * `keyward secret`: a fresh pepper for `KEYWARD_SECRET` — 32 bytes from the CSPRNG, base64url
 * (43 characters, above the 32 `createKeyward` requires). Only the value goes to stdout, so
 * `export KEYWARD_SECRET=$(keyward secret)` works as is.
 */
import { randomBytes } from 'node:crypto'
import type { Command } from 'commander'
import type { CliIo } from '../io.ts'
import { addOutputOptions, type OutputOptions, Printer } from './context.ts'

export const SECRET_BYTES = 32

export function registerSecretCommand(program: Command, io: CliIo): void {
  addOutputOptions(
    program
      .command('secret')
      .description('print a fresh pepper for KEYWARD_SECRET (32 random bytes, base64url)'),
  ).action((options: OutputOptions) => {
    const print = new Printer(io, options)
    const secret = randomBytes(SECRET_BYTES).toString('base64url')
    if (print.json) print.data({ secret })
    else print.text(secret)
  })
}
