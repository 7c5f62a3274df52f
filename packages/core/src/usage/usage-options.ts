/**
 * The `usage` option of `createKeyward`: how verifications are aggregated and flushed to the store,
 * how long each granularity is kept, and how often a key's `lastUsedAt` is written. Every mistake
 * is a `ConfigError` naming the option path (`usage.retentionMs.minute`).
 */
import type { KeyStore } from '../store/interface.ts'
import { checkObject, configError, optionalInteger } from '../validation.ts'
import { BUCKET_MS, GRANULARITIES, type UsageGranularity } from './usage-model.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

export interface UsageOptions {
  /** How often this process writes its pending counts to the store, in ms. @default 5000 */
  flushIntervalMs?: number
  /**
   * Most aggregated counters (and log entries, for a store with a verification log) per store
   * write; a flush with more pending writes several batches. @default 1000
   */
  batchSize?: number
  /**
   * Most entries held while they cannot be written (aggregated counters, plus one per verification
   * for a store with a verification log). Past it the oldest are dropped and reported in a
   * `usage.dropped` event and in `keyward.usage.stats()`. @default 100000
   */
  maxPending?: number
  /**
   * How long buckets are kept, per granularity, in ms; a query reaching further back is refused.
   * @default { minute: 48 h, hour: 90 days, day: 730 days }
   */
  retentionMs?: { minute?: number; hour?: number; day?: number }
  /** A key's `lastUsedAt` is written at most once per this interval, per process, in ms. @default 60000 */
  lastUsedIntervalMs?: number
}

/** The validated `usage` option; `recording: false` when `usage: false`. */
export interface UsageConfig {
  recording: boolean
  flushIntervalMs: number
  batchSize: number
  maxPending: number
  retentionMs: Readonly<Record<UsageGranularity, number>>
  lastUsedIntervalMs: number
}

const DEFAULT_RETENTION_MS: Readonly<Record<UsageGranularity, number>> = Object.freeze({
  minute: 48 * HOUR_MS,
  hour: 90 * DAY_MS,
  day: 730 * DAY_MS,
})

export function resolveUsageOptions(value: UsageOptions | false | undefined, store: KeyStore): UsageConfig {
  const options: UsageOptions = value === false || value === undefined ? {} : value
  if (value !== false && value !== undefined) checkObject('usage', value, configError, 'an object or false')
  const recording = value !== false
  if (recording && typeof store.recordUsage !== 'function') {
    throw configError(
      'usage',
      'the store does not record usage (it has no recordUsage): update it, or pass `usage: false`',
    )
  }
  const retention = options.retentionMs
  if (retention !== undefined) checkObject('usage.retentionMs', retention)
  const retentionMs = {} as Record<UsageGranularity, number>
  for (const granularity of GRANULARITIES) {
    retentionMs[granularity] = optionalInteger(
      `usage.retentionMs.${granularity}`,
      retention?.[granularity],
      DEFAULT_RETENTION_MS[granularity],
      { min: BUCKET_MS[granularity] },
      configError,
      ' (ms, at least one bucket)',
    )
  }
  return {
    recording,
    flushIntervalMs: optionalInteger('usage.flushIntervalMs', options.flushIntervalMs, 5000, {
      min: 10,
      max: DAY_MS,
    }),
    batchSize: optionalInteger('usage.batchSize', options.batchSize, 1000, { min: 1, max: 100_000 }),
    maxPending: optionalInteger('usage.maxPending', options.maxPending, 100_000, { min: 1 }),
    retentionMs: Object.freeze(retentionMs),
    lastUsedIntervalMs: optionalInteger('usage.lastUsedIntervalMs', options.lastUsedIntervalMs, 60_000),
  }
}
