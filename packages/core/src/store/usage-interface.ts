/**
 * What a `KeyStore` exchanges with keyward about usage. keyward aggregates verifications in
 * process and hands the store ready-made increments: per series (a key, an owner, or the
 * installation as a whole) and bucket, the counts per outcome and the credits spent; per ranking
 * scope (everyone, or one owner) and bucket, each key's requests, rejections and credits; the
 * latest use of each key; and, when the store asks for it, one entry per verification. The
 * store adds them up and answers range and top-N reads (docs/architecture.md, Usage).
 */
import type { UsageGranularity, UsageMetric, UsageOutcome } from '../usage/usage-model.ts'

/** One series of counters: a key's, an owner's (all of its keys), or the installation's (every verification). */
export type UsageSeries =
  | { kind: 'key'; id: string }
  | { kind: 'owner'; id: string }
  | { kind: 'installation' }

/** Counts per outcome; outcomes that did not occur may be absent. */
export type UsageCounts = Partial<Record<UsageOutcome, number>>

/** Amounts to add to one bucket of one series. */
export interface UsageBucketIncrement {
  granularity: UsageGranularity
  /** Bucket start, epoch ms (a multiple of the granularity's length). */
  start: number
  /** The bucket may be dropped from this time on (its end plus the granularity's retention). */
  expiresAt: number
  counts: UsageCounts
  credits: number
}

export interface UsageSeriesIncrement {
  series: UsageSeries
  buckets: UsageBucketIncrement[]
}

/** One key's amounts in a ranking bucket. */
export interface UsageKeyAmounts {
  keyId: string
  requests: number
  /** Requests with any outcome but `VALID`. */
  rejections: number
  credits: number
}

export interface UsageRankingBucket {
  granularity: UsageGranularity
  start: number
  expiresAt: number
  keys: UsageKeyAmounts[]
}

/** Increments of the rankings of one scope: every key (`ownerId: null`) or one owner's keys. */
export interface UsageRankingIncrement {
  ownerId: string | null
  buckets: UsageRankingBucket[]
}

/** One verification, for stores that keep a log of them (`KeyStore.usageLog`). Never the token. */
export interface UsageLogEntry {
  keyId: string | null
  ownerId: string | null
  code: UsageOutcome
  cost: number
  timestamp: number
}

/**
 * One write of usage. `origin` (one per keyward instance) and `sequence` (increasing per origin)
 * identify it: a batch sent again after a failure whose outcome is unknown (a timeout, a lost
 * reply) must count once, so a store skips what it already applied of `(origin, sequence)`.
 * Batches of one origin arrive in increasing `sequence` order.
 */
export interface UsageBatch {
  origin: string
  sequence: number
  /** keyward's clock when the batch was made, epoch ms. */
  now: number
  series: UsageSeriesIncrement[]
  rankings: UsageRankingIncrement[]
  /** When keys were last used; a store keeps the latest time per key. */
  lastUsed: { keyId: string; at: number }[]
  /** Every verification, oldest first; empty unless the store's `usageLog` is true. */
  verifications: UsageLogEntry[]
}

/** What a store answers for one bucket of a series. */
export interface StoredUsage {
  counts: UsageCounts
  credits: number
}

export interface UsageRangeQuery {
  series: UsageSeries
  granularity: UsageGranularity
  /** Bucket starts to read, oldest first. */
  starts: readonly number[]
  /** keyward's clock, epoch ms: buckets whose `expiresAt` has passed read as empty. */
  now: number
}

export interface UsageRankingQuery {
  /** `null`: rank every key; else only this owner's keys. */
  ownerId: string | null
  granularity: UsageGranularity
  starts: readonly number[]
  by: UsageMetric
  /** At most this many keys. */
  limit: number
  now: number
}
