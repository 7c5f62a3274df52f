/**
 * The `keyward` command line: builds the commander program, runs it, and turns every failure into
 * one line on stderr and a documented exit code (`exit-codes.ts`). Stack traces only with
 * `--debug`; the plaintext of a key never appears in an error.
 */
import { ConfigError, InvalidArgumentError, KeyNotFoundError, KeywardError, StoreError } from '@keyward/core'
import { Command, CommanderError } from 'commander'
import packageJson from '../package.json' with { type: 'json' }
import { registerKeysCommands } from './commands/keys.ts'
import { registerOwnersCommands } from './commands/owners.ts'
import { registerScanCommand } from './commands/scan.ts'
import { registerSecretCommand } from './commands/secret.ts'
import { registerUsageCommand } from './commands/usage.ts'
import { CliError, ExitCode } from './exit-codes.ts'
import type { CliIo } from './io.ts'

/** Core's argument names as the flags that set them, so an error names what the user typed. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  ownerId: '--owner',
  name: '--name',
  scopes: '--scope',
  rateLimit: '--rate',
  credits: '--credits',
  expiresAt: '--expires',
  environment: '--env',
  allowedNetworks: '--network',
  meta: '--meta',
  gracePeriodMs: '--grace',
  reason: '--reason',
  prefix: '--prefix',
  keyPrefix: '--key-prefix',
  commandTimeoutMs: '--timeout',
  secret: 'KEYWARD_SECRET',
  from: '--since',
  to: '--since',
  granularity: '--granularity',
}

function flagOf(field: string): string {
  const root = /^[A-Za-z]+/.exec(field)?.[0] ?? field
  const flag = FLAG_OF_FIELD[root]
  return flag === undefined ? `\`${field}\`` : field === root ? flag : `${flag} (${field})`
}

/** Core messages start with `keyward: `; the CLI prints its own. */
function bare(message: string): string {
  return message.replace(/^keyward: /, '')
}

/** The one line and exit code for anything a command threw. */
export function describeError(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode }
  if (error instanceof InvalidArgumentError) {
    const detail = bare(error.message).replace(/^invalid `[^`]*`: /, '')
    // About the key's state (already rotated, revoked), not about what was typed.
    if (error.field === 'id') return { message: detail, exitCode: ExitCode.FAILED }
    return { message: `invalid ${flagOf(error.field)}: ${detail}`, exitCode: ExitCode.USAGE }
  }
  if (error instanceof ConfigError) {
    const detail = bare(error.message).replace(/^invalid option `[^`]*`: /, '')
    return { message: `invalid ${flagOf(error.option)}: ${detail}`, exitCode: ExitCode.USAGE }
  }
  if (error instanceof KeyNotFoundError) {
    return { message: `no key with id ${JSON.stringify(error.id)}`, exitCode: ExitCode.FAILED }
  }
  if (error instanceof StoreError) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return { message: `${bare(error.message)}${cause}`, exitCode: ExitCode.UNREACHABLE }
  }
  if (error instanceof KeywardError) {
    // OwnerNotFoundError, DuplicateIdError: the operation could not be done.
    return { message: bare(error.message), exitCode: ExitCode.FAILED }
  }
  const message = error instanceof Error ? error.message : String(error)
  return {
    message: `unexpected error: ${message} (run again with --debug for details)`,
    exitCode: ExitCode.FAILED,
  }
}

/** The error, its stack and its causes, for `--debug`. */
function debugText(error: unknown): string {
  const parts: string[] = []
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current))
    current = current instanceof Error ? current.cause : undefined
  }
  return `${parts.join('\ncaused by: ')}\n`
}

/** Builds the program; `setExitCode` lets `scan` report "found keys" without an error. */
export function createProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('keyward')
    .description(
      'keyward API keys from the terminal: manage keys on Redis or an admin API, read usage, scan for leaks',
    )
    .version(packageJson.version, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // commander's "error: …" and its "(Did you mean …?)" as one line, in the CLI's voice.
      outputError: (text, write) =>
        write(
          `keyward: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
  program.addHelpText(
    'after',
    `
Backends: --redis-url / KEYWARD_REDIS_URL (with KEYWARD_SECRET to mint keys), or
--api-url / KEYWARD_API_URL (with KEYWARD_ADMIN_KEY).

Exit codes:
  0  done (scan: no key found)
  1  the operation failed, or scan found keys
  2  usage error: unknown command or option, bad value, missing variable
  3  the backend could not be reached`,
  )
  registerKeysCommands(program, io)
  registerOwnersCommands(program, io)
  registerUsageCommand(program, io)
  registerSecretCommand(program, io)
  registerScanCommand(program, io, setExitCode)
  return program
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code; never
 * rejects and never calls `process.exit`.
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2), processIo())
 */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.OK
  const program = createProgram(io, (code) => {
    exitCode = code
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "fail" with code 0; everything else commander rejects is a usage error.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
    }
    const { message, exitCode: code } = describeError(error)
    io.stderr.write(argv.includes('--debug') ? debugText(error) : `keyward: ${message}\n`)
    return code
  }
}
