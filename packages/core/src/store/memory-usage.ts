/**
 * Usage counters of `MemoryStore`: per series a map of buckets, per ranking scope a map of buckets
 * of per-key amounts, and the latest use of each key. Batches apply whole (the store is one
 * process), so remembering the highest sequence applied per origin makes a retry count once.
 * Expired buckets read as empty at once and are pruned at most once a minute of keyward's clock.
 */
import { OUTCOME_INDEX, USAGE_OUTCOMES, type UsageOutcome } from '../usage/usage-model.ts'
import type {
  StoredUsage,
  UsageBatch,
  UsageCounts,
  UsageKeyAmounts,
  UsageRangeQuery,
  UsageRankingQuery,
  UsageSeries,
} from './usage-interface.ts'

interface Bucket {
  counts: number[]
  credits: number
  expiresAt: number
}

interface RankingBucket {
  keys: Map<string, UsageKeyAmounts>
  expiresAt: number
}

const PRUNE_EVERY_MS = 60_000

function seriesKey(series: UsageSeries): string {
  return series.kind === 'installation' ? 'i' : `${series.kind === 'key' ? 'k' : 'o'}:${series.id}`
}

function scopeKey(ownerId: string | null): string {
  return ownerId === null ? '*' : `o:${ownerId}`
}

function bucketKey(granularity: string, start: number): string {
  return `${granularity}:${start}`
}

export class MemoryUsage {
  private readonly series = new Map<string, Map<string, Bucket>>()
  private readonly rankings = new Map<string, Map<string, RankingBucket>>()
  private readonly applied = new Map<string, number>()
  private readonly lastUsedAt = new Map<string, number>()
  private prunedAt = Number.NEGATIVE_INFINITY

  record(batch: UsageBatch): void {
    const applied = this.applied.get(batch.origin)
    if (applied !== undefined && batch.sequence <= applied) return
    this.applied.set(batch.origin, batch.sequence)
    if (batch.now - this.prunedAt >= PRUNE_EVERY_MS) this.prune(batch.now)

    for (const { series, buckets } of batch.series) {
      const stored = getOrCreate(this.series, seriesKey(series), () => new Map<string, Bucket>())
      for (const increment of buckets) {
        const bucket = getOrCreate(stored, bucketKey(increment.granularity, increment.start), () => ({
          counts: USAGE_OUTCOMES.map(() => 0),
          credits: 0,
          expiresAt: increment.expiresAt,
        }))
        for (const [outcome, count] of Object.entries(increment.counts)) {
          bucket.counts[OUTCOME_INDEX[outcome as UsageOutcome]]! += count
        }
        bucket.credits += increment.credits
        bucket.expiresAt = Math.max(bucket.expiresAt, increment.expiresAt)
      }
    }
    for (const { ownerId, buckets } of batch.rankings) {
      const stored = getOrCreate(this.rankings, scopeKey(ownerId), () => new Map<string, RankingBucket>())
      for (const increment of buckets) {
        const bucket = getOrCreate(stored, bucketKey(increment.granularity, increment.start), () => ({
          keys: new Map<string, UsageKeyAmounts>(),
          expiresAt: increment.expiresAt,
        }))
        for (const amounts of increment.keys) addAmounts(bucket.keys, amounts)
        bucket.expiresAt = Math.max(bucket.expiresAt, increment.expiresAt)
      }
    }
    for (const { keyId, at } of batch.lastUsed) {
      const previous = this.lastUsedAt.get(keyId)
      if (previous === undefined || previous < at) this.lastUsedAt.set(keyId, at)
    }
  }

  read(query: UsageRangeQuery): (StoredUsage | null)[] {
    const stored = this.series.get(seriesKey(query.series))
    return query.starts.map((start) => {
      const bucket = stored?.get(bucketKey(query.granularity, start))
      if (bucket === undefined || bucket.expiresAt <= query.now) return null
      const counts: UsageCounts = {}
      bucket.counts.forEach((count, index) => {
        if (count > 0) counts[USAGE_OUTCOMES[index]!] = count
      })
      return { counts, credits: bucket.credits }
    })
  }

  rank(query: UsageRankingQuery): UsageKeyAmounts[] {
    const stored = this.rankings.get(scopeKey(query.ownerId))
    const totals = new Map<string, UsageKeyAmounts>()
    for (const start of query.starts) {
      const bucket = stored?.get(bucketKey(query.granularity, start))
      if (bucket === undefined || bucket.expiresAt <= query.now) continue
      for (const amounts of bucket.keys.values()) addAmounts(totals, amounts)
    }
    const by = query.by
    return [...totals.values()]
      .filter((total) => total[by] > 0)
      .sort((a, b) => b[by] - a[by] || (a.keyId < b.keyId ? -1 : 1))
      .slice(0, query.limit)
  }

  /** A deleted key: its `lastUsedAt` goes with it (its past usage stays until it expires). */
  forget(id: string): void {
    this.lastUsedAt.delete(id)
  }

  lastUsed(ids: readonly string[]): (number | null)[] {
    return ids.map((id) => this.lastUsedAt.get(id) ?? null)
  }

  private prune(now: number): void {
    this.prunedAt = now
    for (const groups of [this.series, this.rankings] as Map<string, Map<string, { expiresAt: number }>>[]) {
      for (const [name, buckets] of groups) {
        for (const [key, bucket] of buckets) if (bucket.expiresAt <= now) buckets.delete(key)
        if (buckets.size === 0) groups.delete(name)
      }
    }
  }
}

/** Adds one key's amounts to its running total in `totals`. */
function addAmounts(totals: Map<string, UsageKeyAmounts>, amounts: UsageKeyAmounts): void {
  const total = getOrCreate(totals, amounts.keyId, () => ({
    keyId: amounts.keyId,
    requests: 0,
    rejections: 0,
    credits: 0,
  }))
  total.requests += amounts.requests
  total.rejections += amounts.rejections
  total.credits += amounts.credits
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = create()
    map.set(key, value)
  }
  return value
}
