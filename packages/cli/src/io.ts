/**
 * The process around the CLI — its streams, clock and user — passed in rather than read from
 * globals, so `run()` can be driven by a test or embedded in another tool. Environment variables
 * are read from `process.env` (commander reads the flags' variables there too).
 */
import { userInfo } from 'node:os'

export interface CliIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  /** All of standard input (`keyward scan -`). */
  readStdin(): Promise<Buffer>
  /** Epoch ms. */
  now(): number
  /** Recorded as the actor of every change: `cli:<os user>`. */
  actor: string
}

/** `cli:<login name>`, or `cli:unknown` where the OS has no name for the user. */
export function defaultActor(env: Readonly<Record<string, string | undefined>>): string {
  let name: string | undefined
  try {
    name = userInfo().username
  } catch {
    name = env.USER ?? env.USERNAME
  }
  return `cli:${name === undefined || name === '' ? 'unknown' : name}`.slice(0, 256)
}

/** The real process: its standard streams, `Date.now` and login name. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    async readStdin() {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks)
    },
    now: Date.now,
    actor: defaultActor(process.env),
  }
}
