/**
 * What every command shares: the output flags (`--json`, `--debug`), the backend flags and their
 * environment variables, a printer that keeps stdout to one kind of output, and `withBackend`,
 * which opens the backend a command needs and always closes it.
 */
import { type Command, Option } from 'commander'
import { parseDuration } from '../arguments.ts'
import type { Backend } from '../backend/backend.ts'
import { openBackend, type ValueSource } from '../backend/open-backend.ts'
import type { CliIo } from '../io.ts'

export interface OutputOptions {
  json?: boolean
  debug?: boolean
}

export interface BackendOptions extends OutputOptions {
  redisUrl?: string
  redisCluster?: boolean
  apiUrl?: string
  prefix: string
  keyPrefix: string
  timeout: number
}

/** `--json` and `--debug`, on every command. */
export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print JSON on stdout, and nothing else')
    .option('--debug', 'print stack traces with errors')
}

/** The backend flags, for commands that read or change keys. */
export function addBackendOptions(command: Command): Command {
  return addOutputOptions(command)
    .addOption(
      new Option('--redis-url <url>', 'Redis holding the keys (redis://host:6379)').env('KEYWARD_REDIS_URL'),
    )
    .addOption(
      new Option(
        '--redis-cluster',
        'the Redis is a Redis Cluster; --redis-url may list startup nodes, comma-separated',
      ).env('KEYWARD_REDIS_CLUSTER'),
    )
    .addOption(
      new Option(
        '--api-url <url>',
        'a running keyward admin API instead of Redis (admin key in KEYWARD_ADMIN_KEY)',
      ).env('KEYWARD_API_URL'),
    )
    .addOption(
      new Option('--prefix <prefix>', 'prefix of the keys (kw → kw_live_…)')
        .env('KEYWARD_PREFIX')
        .default('kw'),
    )
    .addOption(
      new Option('--key-prefix <prefix>', "prefix of keyward's Redis keys")
        .env('KEYWARD_KEY_PREFIX')
        .default('kw:'),
    )
    .addOption(
      new Option('--timeout <duration>', 'longest wait for the backend')
        .default(10_000, '10s')
        .argParser((text) => parseDuration(text, '--timeout')),
    )
}

/** Prints for one command: JSON or text on stdout, notes on stderr (never mixed into JSON). */
export class Printer {
  readonly json: boolean

  constructor(
    private readonly io: CliIo,
    options: OutputOptions,
  ) {
    this.json = options.json === true
  }

  /** Pretty-printed JSON followed by a newline. */
  data(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }

  text(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** A line on stderr: hints and warnings that must not pollute what a script reads. */
  note(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`)
  }
}

/** Opens the backend the command's flags name, runs `use`, and closes it whatever happened. */
export async function withBackend<T>(
  io: CliIo,
  command: Command,
  use: (backend: Backend, options: BackendOptions) => Promise<T>,
): Promise<T> {
  const options = command.opts<BackendOptions>()
  const source = (name: string) => command.getOptionValueSource(name) as ValueSource
  const backend = await openBackend({
    redisUrl: { value: options.redisUrl, source: source('redisUrl') },
    apiUrl: { value: options.apiUrl, source: source('apiUrl') },
    redisCluster: options.redisCluster === true,
    prefix: options.prefix,
    keyPrefix: options.keyPrefix,
    timeoutMs: options.timeout,
    env: process.env,
    warn: (message) => io.stderr.write(`keyward: ${message}\n`),
  })
  try {
    return await use(backend, options)
  } finally {
    await backend.close()
  }
}
