/**
 * `KeyStore`: everything keyward must share between processes — key records, the owner index,
 * atomic credit counters, the rate-limiter backend and change notifications. `MemoryStore`
 * (embedded default) and `RedisStore` (`@keyward/redis`) implement it; the same contract tests
 * run against both.
 *
 * Errors: a store that cannot reach its backend throws (or rejects with) `StoreError`; keyward
 * turns that into `UNAVAILABLE` during verification. Records passed in and returned are plain
 * JSON-safe objects; callers must not mutate what a store returns.
 */
import type { CreditSpend } from '../credits.ts'
import type { ResolvedPolicy, StoredKey } from '../types.ts'

export type { CreditSpend }

export interface ListOptions {
  limit: number
  /** Opaque cursor from a previous page; absent for the first page. */
  cursor?: string
}

export interface ListPage {
  records: StoredKey[]
  /** Cursor of the next page, `null` after the last one. */
  cursor: string | null
}

/** Fields of a record that `update` may change. */
export type KeyChanges = Partial<
  Pick<
    StoredKey,
    | 'name'
    | 'scopes'
    | 'expiresAt'
    | 'revokedAt'
    | 'disabled'
    | 'rateLimit'
    | 'credits'
    | 'meta'
    | 'rotatedTo'
    | 'allowedNetworks'
    | 'hash'
    | 'pepperVersion'
  >
> & { updatedAt: number }

/** The result of one rate-limiter consume (rate-limiter-flexible's `RateLimiterRes`). */
export interface RateLimiterResult {
  remainingPoints: number
  msBeforeNext: number
  consumedPoints: number
}

/**
 * A rate limiter for one policy, keyed by key id. Resolves when the point was taken; rejects with
 * a `RateLimiterResult` when over the limit, and with an `Error` when the backend failed —
 * rate-limiter-flexible's `RateLimiterAbstract` satisfies this as it is.
 */
export interface PolicyLimiter {
  consume(key: string, points?: number): Promise<RateLimiterResult>
  /**
   * Gives points back. When a key has several policies and one rejects, keyward refunds the
   * others so a rejected request costs nothing. Optional; rate-limiter-flexible's limiters have it.
   */
  reward?(key: string, points?: number): Promise<unknown>
}

/** A block of the brute-force guard: a client network and when the block ends (epoch ms). */
export interface GuardBlock {
  /** The client network as the guard counts it: an IPv4 address, or an IPv6 `/ipv6Prefix` network. */
  network: string
  until: number
}

/** Hears the blocks and unblocks of every process sharing a `SharedGuardState`. */
export interface SharedGuardListener {
  /** `network` is blocked until `until` (epoch ms), by this process or another. */
  blocked(network: string, until: number): void
  /** The block of `network` was lifted, and its failure count with it. */
  unblocked(network: string): void
  /** Blocks may have been missed (first subscription, reconnect): re-read them with `blocks`. */
  resync(): void
}

/**
 * The optional part of `KeyStore` that shares the brute-force guard between processes
 * (docs/architecture.md, "Brute-force guard"). Each process keeps its own block list and counts in
 * memory, so a request from an address without failures never waits on this; a failed attempt is
 * added here as well, and a block decided in one process reaches every other through `watch`.
 * A store without it (e.g. `MemoryStore`, where one process is all there is) leaves it undefined.
 */
export interface SharedGuardState {
  /**
   * Adds `failures` failed attempts of `network` to a window of `windowMs` that starts with the
   * first; resolves the failures in that window, counted by every process.
   */
  addFailure(network: string, failures: number, windowMs: number): Promise<number>
  /**
   * Blocks `network` until `until` in every process. Resolves `false` (and tells no one) when it
   * was already blocked at `now`.
   */
  block(network: string, until: number, now: number): Promise<boolean>
  /** Lifts the block and the failure count of `network` in every process; `true` if it was blocked. */
  unblock(network: string): Promise<boolean>
  /** The blocks in force at `now`, soonest ending first, at most `limit`. */
  blocks(now: number, limit: number): Promise<GuardBlock[]>
  /** Tells `listener` of every block and unblock, from any process. Returns unsubscribe. */
  watch(listener: SharedGuardListener): () => void
}

export interface KeyStore {
  /** True when the store is shared between processes (a pepper must then be configured). */
  readonly shared: boolean
  /**
   * Shares the brute-force guard's failure counts and blocks between processes; optional (see
   * `SharedGuardState`). `RedisStore` has it; `MemoryStore` does not need it.
   */
  readonly sharedGuard?: SharedGuardState

  /** Inserts a new record and indexes it under its owner. */
  create(record: StoredKey): Promise<void>
  /** The record with this id, or `null`. The hot path of `verify`: cache it where it is remote. */
  get(id: string): Promise<StoredKey | null>
  /** Applies `changes` atomically and returns the new record, or `null` when there is no such id. */
  update(id: string, changes: KeyChanges): Promise<StoredKey | null>
  /** One page of an owner's keys, oldest first. */
  listByOwner(ownerId: string, options: ListOptions): Promise<ListPage>
  /**
   * Rotation, atomically: inserts `successor` and applies `changes` to `id` (the old key).
   * Returns the old key's new record, or `null` (and inserts nothing) when `id` does not exist.
   */
  rotate(id: string, successor: StoredKey, changes: KeyChanges): Promise<StoredKey | null>
  /**
   * Removes a record for good: the record, its owner-index entry and, when it is the newest key of
   * its rotation chain (`rotatedTo === null`), the chain's credit pool. Notifies change listeners
   * (in every process). Returns the removed record, or `null` when there was none.
   */
  delete(id: string): Promise<StoredKey | null>
  /**
   * Deletes, as `delete` does, up to `limit` records that were revoked or expired at or before
   * `before` (epoch ms). Returns the ids removed; fewer than `limit` means none are left.
   */
  purge(before: number, limit: number): Promise<string[]>
  /**
   * Spends `cost` credits of key `id` atomically: first refills if a refill is due at `now`, then
   * takes `cost` only if that many remain. Never goes below zero. `null` when the key has no
   * credits (unlimited) or does not exist.
   */
  spendCredits(id: string, cost: number, now: number): Promise<CreditSpend | null>
  /** A limiter for `policy`; keyward creates one per distinct policy and reuses it. */
  createLimiter(policy: ResolvedPolicy): PolicyLimiter
  /** Calls `listener(id)` whenever a record changes, in this or another process. Returns unsubscribe. */
  onChange(listener: (id: string) => void): () => void
  /** Releases timers and connections the store opened itself (not a client passed in). */
  close(): Promise<void>
}
