/**
 * `KeyStore`: everything keyward must share between processes — key records, the owner index,
 * atomic credit counters, the rate-limiter backend, change notifications and usage counters.
 * `MemoryStore`
 * (embedded default) and `RedisStore` (`@keyward/redis`) implement it; the same contract tests
 * run against both.
 *
 * Errors: a store that cannot reach its backend throws (or rejects with) `StoreError`; keyward
 * turns that into `UNAVAILABLE` during verification. Records passed in and returned are plain
 * JSON-safe objects; callers must not mutate what a store returns.
 */
import type { CreditSpend } from '../credits.ts'
import type { ResolvedPolicy, StoredKey } from '../types.ts'
import type {
  StoredUsage,
  UsageBatch,
  UsageKeyAmounts,
  UsageRangeQuery,
  UsageRankingQuery,
} from './usage-interface.ts'

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

export interface KeyStore {
  /** True when the store is shared between processes (a pepper must then be configured). */
  readonly shared: boolean

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
   * Spends `cost` credits of key `id` atomically: first refills if a refill is due at `now`, then
   * takes `cost` only if that many remain. Never goes below zero. `null` when the key has no
   * credits (unlimited) or does not exist.
   */
  spendCredits(id: string, cost: number, now: number): Promise<CreditSpend | null>
  /** A limiter for `policy`; keyward creates one per distinct policy and reuses it. */
  createLimiter(policy: ResolvedPolicy): PolicyLimiter
  /** Calls `listener(id)` whenever a record changes, in this or another process. Returns unsubscribe. */
  onChange(listener: (id: string) => void): () => void

  // ——— usage (docs/architecture.md, Usage; types in usage-interface.ts) ———

  /**
   * True when `recordUsage` keeps every verification (`batch.verifications`), e.g. in a stream for
   * downstream consumers. keyward then holds one entry per verification until it is flushed;
   * otherwise it sends none and keeps only aggregated counts.
   */
  readonly usageLog: boolean
  /**
   * Adds a batch of usage: series counters, rankings, last-used times (keep the latest) and the
   * verification log. Counters of every process add up. What was already applied of the same
   * `(origin, sequence)` is skipped, so a batch retried after an unknown outcome counts once.
   * Buckets may be dropped once their `expiresAt` has passed.
   */
  recordUsage(batch: UsageBatch): Promise<void>
  /** One series' buckets at `query.starts`, in that order: `null` for an empty or expired bucket. */
  readUsage(query: UsageRangeQuery): Promise<(StoredUsage | null)[]>
  /**
   * Keys ranked by `query.by` summed over the buckets: highest first, ties by key id (ascending,
   * by code unit), only keys whose `by` is above zero, at most `query.limit`.
   */
  rankUsage(query: UsageRankingQuery): Promise<UsageKeyAmounts[]>
  /** When each key was last used, epoch ms, or `null`; in the order of `ids`. */
  lastUsed(ids: readonly string[]): Promise<(number | null)[]>

  /** Releases timers and connections the store opened itself (not a client passed in). */
  close(): Promise<void>
}
