/**
 * `KeyStore`: everything keyward must share between processes — key records, the owner index,
 * owners, the atomic charge of a request (rate limits and credits), change notifications and usage
 * counters. `MemoryStore`
 * (embedded default) and `RedisStore` (`@keyward/redis`) implement it; the same contract tests
 * run against both.
 *
 * Errors: a store that cannot reach its backend throws (or rejects with) `StoreError`; keyward
 * turns that into `UNAVAILABLE` during verification. Records passed in and returned are plain
 * JSON-safe objects; callers must not mutate what a store returns.
 */
import type { CreditSpend } from '../credits.ts'
import type { RateLimitState, ResolvedPolicy, StoredKey, StoredOwner } from '../types.ts'
import type { AbuseState } from './abuse-interface.ts'
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
    | 'disabledReason'
    | 'rateLimit'
    | 'credits'
    | 'meta'
    | 'rotatedTo'
    | 'allowedNetworks'
    | 'hash'
    | 'pepperVersion'
  >
> & { updatedAt: number }

/** One rate-limit budget a request takes a point from. */
export interface LimitRequest {
  policy: ResolvedPolicy
  /**
   * Whose budget: the key's (shared by its rotation chain, identified by `chainId`) or its owner's
   * (shared by all the owner's keys, identified by `ownerId`).
   */
  scope: 'key' | 'owner'
}

/** Everything one request spends, taken in one atomic step (`KeyStore.charge`). */
export interface ChargeRequest {
  /** The newest key of the chain: its record holds the key's credit settings. */
  keyId: string
  /** The chain's first key id: the identity of the key's rate-limit budget and credit pool. */
  chainId: string
  ownerId: string
  /** The key's policies first, then the owner's; a point from each. */
  limits: readonly LimitRequest[]
  /** Credits to spend and from which pool (the key's own when it has one, else its owner's); `null`: none. */
  credits: { from: 'key' | 'owner'; cost: number } | null
  /** Epoch ms: when refills are due. */
  now: number
}

export interface ChargeResult {
  /** One state per requested limit, in order. */
  states: RateLimitState[]
  /** A limit rejected: the other limits were refunded and no credit was spent. */
  limited: boolean
  /** When `limited`: ms until a retry can pass every limit that rejected. */
  retryAfterMs: number
  /** The spend, when credits were asked for and no limit rejected; `null` when the pool is gone. */
  credits: CreditSpend | null
}

/** Owner fields `updateOwner` may change. */
export type OwnerChanges = Partial<Pick<StoredOwner, 'rateLimit' | 'credits' | 'meta'>> & {
  updatedAt: number
}

/** A block of the brute-force guard: a client network and when the block ends (epoch ms). */
export interface GuardBlock {
  /** The client network as the guard counts it: an IPv4 address, or an IPv6 `/ipv6Prefix` network. */
  network: string
  until: number
}

/**
 * Hears the blocks and unblocks of every process sharing a `SharedGuardState`. Each carries the
 * shared sequence number of its announcement: notices can arrive after a later change made here
 * took effect, and only a higher number may override what a lower one said.
 */
export interface SharedGuardListener {
  /** `network` is blocked until `until` (epoch ms), by this process or another. */
  blocked(network: string, until: number, sequence: number): void
  /** The block of `network` was lifted, and its failure count with it. */
  unblocked(network: string, sequence: number): void
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
   * Blocks `network` until `until` in every process. Resolves the sequence number of the
   * announcement, or 0 (and tells no one) when it was already blocked at `now`.
   */
  block(network: string, until: number, now: number): Promise<number>
  /**
   * Lifts the block and the failure count of `network` in every process: whether it was blocked,
   * and the sequence number of the announcement.
   */
  unblock(network: string): Promise<{ wasBlocked: boolean; sequence: number }>
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
  /**
   * Optional fast path for `get`: the record (or `null`) when the store can answer without I/O,
   * `undefined` when it cannot (then keyward awaits `get`). Saves a promise per request. verify
   * reads no balance from it (only whether the key has a pool and how it refills), so its
   * `credits.remaining` may lag `get`'s: return the same object for as long as the record is
   * unchanged — verify remembers what it builds per record object.
   */
  peek?(id: string): StoredKey | null | undefined
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
   * Takes a point from every limit and then, if none rejected, `cost` credits from the chosen pool
   * (refilled first if a refill is due at `now`; never below zero) — as one atomic step: when a
   * limit rejects, the points taken from the others are given back and nothing is spent. On a
   * remote store this is the one blocking round trip of a request (or none: local-first policies,
   * `ResolvedPolicy.syncMs`, are counted in process). Throws `StoreError` when the backend failed.
   */
  charge(request: ChargeRequest): Promise<ChargeResult>
  /**
   * Optional fast path for `charge`, like `peek`: the result when the store can charge without
   * I/O (everything in process), `undefined` when it cannot (then keyward awaits `charge`). Saves
   * the promises of a request whose key is cached. The same atomic step as `charge`; it must not
   * throw (a store that may fail answers `undefined`).
   */
  chargeNow?(request: ChargeRequest): ChargeResult | undefined

  /** The owner's record, or `null` when the owner has none. On the hot path: cache it where remote. */
  getOwner(ownerId: string): Promise<StoredOwner | null>
  /** Optional fast path for `getOwner`, like `peek`: `undefined` when it would need I/O. */
  peekOwner?(ownerId: string): StoredOwner | null | undefined
  /** Creates or replaces an owner; its credit pool is set to `owner.credits` (or removed when null). */
  putOwner(owner: StoredOwner): Promise<void>
  /** Applies `changes` to an owner (new `credits` reset its pool); `null` when there is no such owner. */
  updateOwner(ownerId: string, changes: OwnerChanges): Promise<StoredOwner | null>
  /** Removes an owner and its credit pool (its keys stay); returns what was removed, or `null`. */
  deleteOwner(ownerId: string): Promise<StoredOwner | null>
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

  // ——— abuse signals (docs/architecture.md, Abuse signals; types in abuse-interface.ts) ———

  /**
   * Counters, claims and history of abuse signals, added up across every process sharing the
   * store. Optional: without it, a store that is not `shared` gets an in-process one; a shared
   * store without it needs `abuse: false`.
   */
  readonly abuse?: AbuseState

  /**
   * Optional: the process-local record cache's counters, for metrics (`RedisStore` has one).
   * `hits` are lookups answered from the cache (a cached "unknown" included), `misses` lookups
   * that went to the backend.
   */
  cacheStats?(): { hits: number; misses: number; size: number }

  /** Releases timers and connections the store opened itself (not a client passed in). */
  close(): Promise<void>
}
