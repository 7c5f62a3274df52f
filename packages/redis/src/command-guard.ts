/**
 * Keeps Redis trouble from reaching requests as a hang: a command is only sent while the client
 * is `ready` (ioredis would otherwise park it in its offline queue until reconnected), and each
 * one races a timer. Every failure comes out as a `StoreError` whose cause keeps only the original
 * error's `name`, `message` and `code`: ioredis attaches the command and its arguments to its errors
 * (`command.args`), and for a write those are the record JSON — the key's hash and its meta — which
 * must not reach whatever logs the error. No token is ever sent, so none can leak either.
 */
import { StoreError } from '@keyward/core'
import type { Cluster, Redis } from 'ioredis'

export type RedisClient = Redis | Cluster

export class CommandGuard {
  /** Settles once the client is first ready; until then commands wait for it (bounded by the timeout). */
  private firstReady: Promise<void> | null = null

  constructor(
    private readonly client: RedisClient,
    readonly timeoutMs: number,
  ) {
    if (client.status !== 'ready') {
      this.firstReady = new Promise<void>((resolve) => client.once('ready', resolve)).then(() => {
        this.firstReady = null
      })
      // A lazyConnect client is connected on first use.
      if (client.status === 'wait') client.connect().catch(() => {})
    }
  }

  /** True when a command sent now would go straight to the server. */
  isReady(): boolean {
    return this.client.status === 'ready'
  }

  run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    const starting = this.firstReady
    if (starting !== null) {
      // A store made right after its client starts connecting: wait for that first connection,
      // rather than failing the first requests of a service. After that, not ready = fail fast.
      return withTimeout(starting, this.timeoutMs, `${operation} (connecting)`).then(() =>
        this.send(operation, command),
      )
    }
    if (!this.isReady()) {
      return Promise.reject(
        new StoreError(`keyward: Redis is not reachable (${this.client.status}) for ${operation}`),
      )
    }
    return this.send(operation, command)
  }

  /**
   * The command, raced against one timer, in a single promise: this runs once per blocking round
   * trip, and the `Promise.race` / `finally` / `catch` chain it replaced cost several promises and
   * microtask turns per request. The late outcome is still observed, so it never becomes an
   * unhandled rejection.
   */
  private send<T>(operation: string, command: () => Promise<T>): Promise<T> {
    const ms = this.timeoutMs
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StoreError(`keyward: Redis ${operation} timed out after ${ms} ms`)),
        ms,
      )
      const failed = (error: unknown) => {
        clearTimeout(timer)
        reject(
          error instanceof StoreError
            ? error
            : new StoreError(`keyward: Redis ${operation} failed`, { cause: sanitized(error) }),
        )
      }
      let pending: Promise<T>
      try {
        pending = command()
      } catch (error) {
        failed(error)
        return
      }
      pending.then((value) => {
        clearTimeout(timer)
        resolve(value)
      }, failed)
    })
  }
}

/** The failure as a plain `Error` with the original's name, message and code, and nothing else. */
function sanitized(error: unknown): Error {
  const original = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown }
  const message = typeof original.message === 'string' ? original.message : String(error)
  const cause: Error & { code?: string } = new Error(message)
  if (typeof original.name === 'string') cause.name = original.name
  if (typeof original.code === 'string') cause.code = original.code
  // The stack would point here, not at the failure: keep just the summary line.
  cause.stack = `${cause.name}: ${message}`
  return cause
}

/**
 * Settles like `promise`, or rejects with a `StoreError` after `ms`. The late outcome of
 * `promise` is still observed (by `Promise.race`), so it can never become an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreError(`keyward: Redis ${operation} timed out after ${ms} ms`)),
      ms,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
