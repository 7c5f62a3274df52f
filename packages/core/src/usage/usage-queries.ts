/**
 * `keyward.usage`: the two reads of usage — one series' buckets over a range (`get`) and keys
 * ranked over a range (`top`) — plus `flush` and `stats` of this process's recording. Every bad
 * argument is an `InvalidArgumentError` naming it. Reads first flush this process's pending
 * counts, so a read sees everything this process recorded before it; counts still pending in
 * other processes arrive with their next flush (docs/architecture.md, Usage).
 */
import { checkOwnerId } from '../keyward/key-input.ts'
import type { KeyStore } from '../store/interface.ts'
import type { UsageSeries } from '../store/usage-interface.ts'
import { argumentError, checkObject, checkOneOf, checkString, optionalInteger } from '../validation.ts'
import {
  BUCKET_MS,
  bucketStarts,
  GRANULARITIES,
  USAGE_METRICS,
  type UsageGranularity,
  type UsageMetric,
  type UsageOutcome,
  zeroCounts,
} from './usage-model.ts'
import type { UsageConfig } from './usage-options.ts'
import type { UsageRecorder, UsageStats } from './usage-recorder.ts'

/**
 * Whose usage: a key (`{ keyId }`, or the id alone), an owner (all of its keys), or the whole
 * installation (`{ installation: true }`: every verification, including requests without a
 * usable key — `MISSING`, `MALFORMED` — which belong to no key).
 */
export type UsageTarget = string | { keyId: string } | { ownerId: string } | { installation: true }

export interface UsageQuery {
  /** Start of the range; the bucket holding it is the first one. */
  from: Date
  /** End of the range, exclusive. @default now */
  to?: Date
  /** @default 'hour' */
  granularity?: UsageGranularity
}

/** How many verifications ended in each outcome (`VALID` and every `VerifyCode`). */
export type UsageCountsByOutcome = Record<UsageOutcome, number>

export interface UsageBucket {
  start: Date
  counts: UsageCountsByOutcome
  /** All verifications in the bucket (the sum of `counts`). */
  requests: number
  /** Credits spent. */
  credits: number
}

export interface UsageReport {
  granularity: UsageGranularity
  /** Every bucket of the range, oldest first; empty ones are present, with zeros. */
  buckets: UsageBucket[]
  totals: { counts: UsageCountsByOutcome; requests: number; credits: number }
}

export interface UsageTopQuery {
  from: Date
  /** @default now */
  to?: Date
  /** @default 'requests' */
  by?: UsageMetric
  /** 1–1000. @default 10 */
  limit?: number
  /** Rank only this owner's keys. @default every key */
  ownerId?: string
  /**
   * The buckets summed. @default the coarsest granularity whose buckets fit `[from, to)` exactly,
   * else the finest whose retention reaches back to `from`
   */
  granularity?: UsageGranularity
}

export interface UsageTopEntry {
  keyId: string
  /** The key's owner; `null` for an id with no record (unknown ids presented by clients). */
  ownerId: string | null
  requests: number
  /** Requests with any outcome but `VALID`. */
  rejections: number
  credits: number
}

export interface KeywardUsage {
  /**
   * A series' buckets over `[from, to)`.
   *
   * @example
   * const hour = await keyward.usage.get({ keyId }, { from: new Date(Date.now() - 3_600_000), granularity: 'minute' })
   * hour.totals.counts.RATE_LIMITED
   */
  get(target: UsageTarget, query: UsageQuery): Promise<UsageReport>
  /**
   * Keys ranked by requests, rejections or credits over `[from, to)`, highest first (ties by key id).
   *
   * @example
   * const noisiest = await keyward.usage.top({ from: new Date(Date.now() - 86_400_000), by: 'rejections', limit: 5 })
   */
  top(query: UsageTopQuery): Promise<UsageTopEntry[]>
  /** Writes this process's pending counts now; rejects with the store's error when it cannot. */
  flush(): Promise<void>
  /** This process's recording: pending entries, drops, flushes. */
  stats(): UsageStats
}

const NOT_RECORDING: UsageStats = Object.freeze({
  pending: 0,
  droppedVerifications: 0,
  droppedLogEntries: 0,
  flushes: 0,
  flushErrors: 0,
  lastFlushAt: null,
})

export function createUsageApi(
  store: KeyStore,
  config: UsageConfig,
  now: () => number,
  recorder: UsageRecorder | null,
): KeywardUsage {
  const retention = config.retentionMs
  const flushFirst = async () => {
    if (recorder !== null) await recorder.flush()
  }

  return {
    async get(target, query) {
      const series = checkTarget(target)
      checkObject('query', query, argumentError)
      const granularity = checkOneOf('granularity', query.granularity ?? 'hour', GRANULARITIES, argumentError)
      const at = now()
      const { from, to } = checkRange(query, granularity, retention, at)
      await flushFirst()
      const starts = bucketStarts(granularity, from, to)
      const stored =
        starts.length === 0 ? [] : await store.readUsage({ series, granularity, starts, now: at })
      const totals = { counts: zeroCounts(), requests: 0, credits: 0 }
      const buckets = starts.map((start, index): UsageBucket => {
        const counts = zeroCounts()
        let requests = 0
        const found = stored[index]
        if (found != null) {
          for (const [outcome, count] of Object.entries(found.counts) as [UsageOutcome, number][]) {
            if (!(outcome in counts)) continue
            counts[outcome] += count
            totals.counts[outcome] += count
            requests += count
          }
          totals.credits += found.credits
        }
        totals.requests += requests
        return { start: new Date(start), counts, requests, credits: found?.credits ?? 0 }
      })
      return { granularity, buckets, totals }
    },

    async top(query) {
      checkObject('query', query, argumentError)
      const by = checkOneOf('by', query.by ?? 'requests', USAGE_METRICS, argumentError)
      const limit = optionalInteger('limit', query.limit, 10, { min: 1, max: 1000 }, argumentError)
      const ownerId = query.ownerId === undefined ? null : checkOwnerId(query.ownerId)
      const at = now()
      const granularity =
        query.granularity === undefined
          ? chooseGranularity(query, retention, at)
          : checkOneOf('granularity', query.granularity, GRANULARITIES, argumentError)
      const { from, to } = checkRange(query, granularity, retention, at)
      await flushFirst()
      const starts = bucketStarts(granularity, from, to)
      if (starts.length === 0) return []
      const ranked = await store.rankUsage({ ownerId, granularity, starts, by, limit, now: at })
      const owners =
        ownerId === null
          ? await Promise.all(ranked.map(async ({ keyId }) => (await store.get(keyId))?.ownerId ?? null))
          : ranked.map(() => ownerId)
      return ranked.map(({ keyId, requests, rejections, credits }, index) => ({
        keyId,
        ownerId: owners[index] ?? null,
        requests,
        rejections,
        credits,
      }))
    },

    flush: flushFirst,

    stats: () => (recorder === null ? { ...NOT_RECORDING } : recorder.stats()),
  }
}

function checkTarget(target: unknown): UsageSeries {
  if (typeof target === 'string')
    return { kind: 'key', id: checkString('keyId', target, { min: 1, max: 128 }) }
  const given = checkObject(
    'target',
    target,
    argumentError,
    'a key id, { keyId }, { ownerId } or { installation: true }',
  )
  const named = ['keyId', 'ownerId', 'installation'].filter((field) => given[field] !== undefined)
  if (named.length !== 1)
    throw argumentError('target', 'must name exactly one of keyId, ownerId, installation')
  if (given.keyId !== undefined)
    return { kind: 'key', id: checkString('keyId', given.keyId, { min: 1, max: 128 }) }
  if (given.ownerId !== undefined) return { kind: 'owner', id: checkOwnerId(given.ownerId) }
  if (given.installation !== true) throw argumentError('installation', 'must be true')
  return { kind: 'installation' }
}

function checkTime(field: string, value: unknown): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw argumentError(field, 'must be a valid Date')
  return value.getTime()
}

/** `[from, to)` in epoch ms, checked against each other and against the granularity's retention. */
function checkRange(
  query: { from: unknown; to?: unknown },
  granularity: UsageGranularity,
  retention: Readonly<Record<UsageGranularity, number>>,
  now: number,
): { from: number; to: number } {
  const from = checkTime('from', query.from)
  const to = query.to === undefined ? now : checkTime('to', query.to)
  if (from > to) throw argumentError('from', 'must not be after `to`')
  const kept = retention[granularity]
  if (from < now - kept) {
    throw argumentError(
      'from',
      `reaches back further than ${granularity} buckets are kept (${describeDuration(kept)}): use a later \`from\` or a coarser granularity`,
    )
  }
  if (to - from > kept) {
    throw argumentError(
      'to',
      `the range may span at most the ${granularity} retention (${describeDuration(kept)})`,
    )
  }
  return { from, to }
}

function chooseGranularity(
  query: UsageTopQuery,
  retention: Readonly<Record<UsageGranularity, number>>,
  now: number,
): UsageGranularity {
  const from = checkTime('from', query.from)
  const to = query.to === undefined ? now : checkTime('to', query.to)
  const fits = (granularity: UsageGranularity) =>
    from >= now - retention[granularity] && to - from <= retention[granularity]
  for (const granularity of ['day', 'hour', 'minute'] as const) {
    const size = BUCKET_MS[granularity]
    if (from % size === 0 && to % size === 0 && fits(granularity)) return granularity
  }
  // Unaligned: the finest buckets that reach back far enough (checkRange explains a failure).
  return GRANULARITIES.find(fits) ?? 'day'
}

function describeDuration(ms: number): string {
  if (ms % BUCKET_MS.day === 0) return `${ms / BUCKET_MS.day} d`
  if (ms % BUCKET_MS.hour === 0) return `${ms / BUCKET_MS.hour} h`
  if (ms % BUCKET_MS.minute === 0) return `${ms / BUCKET_MS.minute} min`
  return `${ms} ms`
}
