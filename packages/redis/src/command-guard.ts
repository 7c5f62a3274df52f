/**
 * Keeps Redis trouble from reaching requests as a hang: a command is only sent while the client
 * is `ready` (ioredis would otherwise park it in its offline queue until reconnected), and each
 * one races a timer. Every failure comes out as a `StoreError` with the cause kept — never with a
 * token in it, since none is ever sent.
 */
import { StoreError } from '@keyward/core'
import type { Cluster, Redis } from 'ioredis'

export type RedisClient = Redis | Cluster

export class CommandGuard {
  constructor(
    private readonly client: RedisClient,
    readonly timeoutMs: number,
  ) {}

  /** True when a command sent now would go straight to the server. */
  isReady(): boolean {
    if (this.client.status === 'wait') {
      // A lazyConnect client is connected on first use; until then, fail fast.
      this.client.connect().catch(() => {})
    }
    return this.client.status === 'ready'
  }

  async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (!this.isReady()) {
      throw new StoreError(`keyward: Redis is not reachable (${this.client.status}) for ${operation}`)
    }
    return withTimeout(command(), this.timeoutMs, operation).catch((error: unknown) => {
      if (error instanceof StoreError) throw error
      throw new StoreError(`keyward: Redis ${operation} failed`, { cause: error })
    })
  }
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
