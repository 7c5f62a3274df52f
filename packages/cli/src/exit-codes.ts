/**
 * What the `keyward` binary exits with, and the one error type its commands throw: a message meant
 * for a person (one line, no stack) and the exit code that goes with it. Scripts and CI branch on
 * these codes, so they are part of the CLI's contract (docs/cli.md, "Exit codes").
 */

export const ExitCode = {
  /** Done; for `scan`: no key found. */
  OK: 0,
  /** The operation failed (an unknown id, a change the backend refused), or `scan` found keys. */
  FAILED: 1,
  /** The command line or the configuration is wrong: unknown option, bad value, missing variable. */
  USAGE: 2,
  /** The backend (Redis or the admin API) could not be reached or did not answer in time. */
  UNREACHABLE: 3,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error the CLI reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: ExitCode

  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A mistake on the command line or in the environment (exit code 2). */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.USAGE)
}
