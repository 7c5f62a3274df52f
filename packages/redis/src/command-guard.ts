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

/** A command in flight: settled by its reply, or by the deadline sweep. */
interface InFlight {
  readonly deadline: number
  readonly operation: string
  readonly reject: (error: unknown) => void
  settled: boolean
}

export class CommandGuard {
  /** Settles once the client is first ready; until then commands wait for it (bounded by the timeout). */
  private firstReady: Promise<void> | null = null
  /**
   * Commands in flight, oldest first. Every command gets the same timeout, so deadlines come in
   * the order commands are sent, and one timer (for the oldest) serves them all: a timer per
   * command (set, then cleared) was a measurable part of each request's round trip under load.
   * Replies mostly come back in order too, so answered commands leave from the front, and the
   * timer is cleared whenever nothing is left in flight.
   */
  private readonly inFlight: (InFlight | undefined)[] = []
  private head = 0
  private timer: NodeJS.Timeout | null = null

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

  /** Commands sent and not yet answered or timed out (for tests). */
  get pending(): number {
    let count = 0
    for (let index = this.head; index < this.inFlight.length; index++) {
      if (this.inFlight[index]?.settled === false) count++
    }
    return count
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
   * The command, in a single promise that its reply or its deadline settles, whichever comes first.
   * The late outcome is still observed, so it never becomes an unhandled rejection.
   */
  private send<T>(operation: string, command: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: InFlight = { deadline: Date.now() + this.timeoutMs, operation, reject, settled: false }
      const failed = (error: unknown) => {
        if (entry.settled) return
        this.settle(entry)
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
      this.track(entry)
      pending.then((value) => {
        if (entry.settled) return
        this.settle(entry)
        resolve(value)
      }, failed)
    })
  }

  private track(entry: InFlight): void {
    this.inFlight.push(entry)
    if (this.timer === null) this.arm(this.timeoutMs)
  }

  private settle(entry: InFlight): void {
    entry.settled = true
    // Drop answered commands from the front; the rest wait for the sweep or their reply.
    while (this.head < this.inFlight.length && (this.inFlight[this.head] as InFlight).settled) {
      this.inFlight[this.head++] = undefined
    }
    if (this.head === this.inFlight.length) {
      // Nothing in flight: no timer left behind to hold the process open.
      this.inFlight.length = 0
      this.head = 0
      if (this.timer !== null) {
        clearTimeout(this.timer)
        this.timer = null
      }
    } else if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head)
      this.head = 0
    }
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(1, ms))
  }

  /** Fails every command past its deadline, then waits for the oldest one left. */
  private sweep(): void {
    this.timer = null
    const now = Date.now()
    while (this.head < this.inFlight.length) {
      const entry = this.inFlight[this.head] as InFlight
      if (!entry.settled) {
        if (entry.deadline > now) {
          this.arm(entry.deadline - now)
          return
        }
        entry.settled = true
        entry.reject(new StoreError(`keyward: Redis ${entry.operation} timed out after ${this.timeoutMs} ms`))
      }
      this.inFlight[this.head++] = undefined
    }
    this.inFlight.length = 0
    this.head = 0
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
