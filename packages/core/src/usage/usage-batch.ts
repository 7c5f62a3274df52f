/**
 * Turns the recorder's per-minute counters into one `UsageBatch`: each counter is rolled up into
 * its minute, hour and day buckets of up to three series (its key, its owner, the installation)
 * and of the rankings (every key, and its owner's keys), adding up counters that land in the same
 * bucket, so the store receives one increment per series and bucket (docs/architecture.md, Usage).
 */
import type {
  UsageBatch,
  UsageBucketIncrement,
  UsageCounts,
  UsageKeyAmounts,
  UsageLogEntry,
  UsageRankingBucket,
  UsageRankingIncrement,
  UsageSeries,
  UsageSeriesIncrement,
} from '../store/usage-interface.ts'
import {
  BUCKET_MS,
  bucketStart,
  GRANULARITIES,
  OUTCOME_INDEX,
  USAGE_OUTCOMES,
  type UsageGranularity,
} from './usage-model.ts'

/** Verifications of one key id (or none) and owner id (or none) within one minute. */
export interface MinuteCounter {
  keyId: string | null
  ownerId: string | null
  /** Start of the minute, epoch ms. */
  minute: number
  /** Per outcome, indexed like `USAGE_OUTCOMES`. */
  counts: number[]
  credits: number
}

export interface BatchContext {
  origin: string
  sequence: number
  now: number
  retentionMs: Readonly<Record<UsageGranularity, number>>
}

interface SeriesSum {
  series: UsageSeries
  buckets: Map<number, { granularity: UsageGranularity; start: number; counts: number[]; credits: number }>
}

interface RankingSum {
  ownerId: string | null
  buckets: Map<number, { granularity: UsageGranularity; start: number; keys: Map<string, UsageKeyAmounts> }>
}

const VALID = OUTCOME_INDEX.VALID
const INSTALLATION: UsageSeries = Object.freeze({ kind: 'installation' })

/** Total verifications a counter holds. */
export function verificationsOf(counter: MinuteCounter): number {
  let total = 0
  for (const count of counter.counts) total += count
  return total
}

export function buildUsageBatch(
  counters: readonly MinuteCounter[],
  verifications: UsageLogEntry[],
  lastUsed: { keyId: string; at: number }[],
  context: BatchContext,
): UsageBatch {
  const series = new Map<string, SeriesSum>()
  const rankings = new Map<string, RankingSum>()
  for (const counter of counters) {
    const { keyId, ownerId } = counter
    const requests = verificationsOf(counter)
    const amounts = {
      requests,
      rejections: requests - (counter.counts[VALID] ?? 0),
      credits: counter.credits,
    }
    for (const granularity of GRANULARITIES) {
      const start = bucketStart(counter.minute, granularity)
      if (keyId !== null)
        addToSeries(series, `k:${keyId}`, { kind: 'key', id: keyId }, granularity, start, counter)
      if (ownerId !== null)
        addToSeries(series, `o:${ownerId}`, { kind: 'owner', id: ownerId }, granularity, start, counter)
      addToSeries(series, 'i', INSTALLATION, granularity, start, counter)
      if (keyId !== null) {
        addToRanking(rankings, null, granularity, start, keyId, amounts)
        if (ownerId !== null) addToRanking(rankings, ownerId, granularity, start, keyId, amounts)
      }
    }
  }
  const expiresAt = (granularity: UsageGranularity, start: number) =>
    start + BUCKET_MS[granularity] + context.retentionMs[granularity]
  return {
    origin: context.origin,
    sequence: context.sequence,
    now: context.now,
    series: [...series.values()].map(
      (sum): UsageSeriesIncrement => ({
        series: sum.series,
        buckets: [...sum.buckets.values()].map(
          ({ granularity, start, counts, credits }): UsageBucketIncrement => ({
            granularity,
            start,
            expiresAt: expiresAt(granularity, start),
            counts: toUsageCounts(counts),
            credits,
          }),
        ),
      }),
    ),
    rankings: [...rankings.values()].map(
      (sum): UsageRankingIncrement => ({
        ownerId: sum.ownerId,
        buckets: [...sum.buckets.values()].map(
          ({ granularity, start, keys }): UsageRankingBucket => ({
            granularity,
            start,
            expiresAt: expiresAt(granularity, start),
            keys: [...keys.values()],
          }),
        ),
      }),
    ),
    lastUsed,
    verifications,
  }
}

/** A map key for one bucket: its start plus 0 (minute), 1 (hour) or 2 (day) — starts are multiples of 60 000. */
function slotOf(granularity: UsageGranularity, start: number): number {
  return start + GRANULARITIES.indexOf(granularity)
}

function addToSeries(
  sums: Map<string, SeriesSum>,
  name: string,
  series: UsageSeries,
  granularity: UsageGranularity,
  start: number,
  counter: MinuteCounter,
): void {
  let sum = sums.get(name)
  if (sum === undefined) {
    sum = { series, buckets: new Map() }
    sums.set(name, sum)
  }
  const slot = slotOf(granularity, start)
  let bucket = sum.buckets.get(slot)
  if (bucket === undefined) {
    bucket = { granularity, start, counts: USAGE_OUTCOMES.map(() => 0), credits: 0 }
    sum.buckets.set(slot, bucket)
  }
  for (let index = 0; index < counter.counts.length; index++) {
    bucket.counts[index]! += counter.counts[index]!
  }
  bucket.credits += counter.credits
}

function addToRanking(
  sums: Map<string, RankingSum>,
  ownerId: string | null,
  granularity: UsageGranularity,
  start: number,
  keyId: string,
  amounts: { requests: number; rejections: number; credits: number },
): void {
  const name = ownerId === null ? '*' : `o:${ownerId}`
  let sum = sums.get(name)
  if (sum === undefined) {
    sum = { ownerId, buckets: new Map() }
    sums.set(name, sum)
  }
  const slot = slotOf(granularity, start)
  let bucket = sum.buckets.get(slot)
  if (bucket === undefined) {
    bucket = { granularity, start, keys: new Map() }
    sum.buckets.set(slot, bucket)
  }
  const total = bucket.keys.get(keyId)
  if (total === undefined) bucket.keys.set(keyId, { keyId, ...amounts })
  else {
    total.requests += amounts.requests
    total.rejections += amounts.rejections
    total.credits += amounts.credits
  }
}

function toUsageCounts(counts: readonly number[]): UsageCounts {
  const result: UsageCounts = {}
  counts.forEach((count, index) => {
    if (count > 0) result[USAGE_OUTCOMES[index]!] = count
  })
  return result
}
