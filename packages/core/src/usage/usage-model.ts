/**
 * The shape of usage data, shared by the recorder, the queries and every store: the outcomes a
 * verification is counted under (`VALID` and each `VerifyCode`), the three bucket granularities
 * with their UTC bucket arithmetic, and the metrics keys are ranked by (docs/architecture.md,
 * Usage).
 */
import { VerifyCode } from '../verify-codes.ts'

/** What a verification is counted as: `VALID`, or the `VerifyCode` it was refused with. */
export type UsageOutcome = 'VALID' | VerifyCode

/** Every outcome, in a fixed order (the index of a counter slot in the recorder). */
export const USAGE_OUTCOMES: readonly UsageOutcome[] = Object.freeze([
  'VALID',
  ...(Object.values(VerifyCode) as VerifyCode[]),
])

/** Position of each outcome in `USAGE_OUTCOMES`. */
export const OUTCOME_INDEX: Readonly<Record<UsageOutcome, number>> = Object.freeze(
  Object.fromEntries(USAGE_OUTCOMES.map((outcome, index) => [outcome, index])) as Record<
    UsageOutcome,
    number
  >,
)

export type UsageGranularity = 'minute' | 'hour' | 'day'

export const GRANULARITIES: readonly UsageGranularity[] = Object.freeze(['minute', 'hour', 'day'])

/** Length of one bucket. Buckets start at multiples of it since the epoch: UTC minutes, hours, days. */
export const BUCKET_MS: Readonly<Record<UsageGranularity, number>> = Object.freeze({
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
})

/** What `usage.top` ranks keys by. `rejections` is every outcome but `VALID`. */
export type UsageMetric = 'requests' | 'rejections' | 'credits'

export const USAGE_METRICS: readonly UsageMetric[] = Object.freeze(['requests', 'rejections', 'credits'])

/** Start of the bucket holding `at`. */
export function bucketStart(at: number, granularity: UsageGranularity): number {
  const size = BUCKET_MS[granularity]
  return Math.floor(at / size) * size
}

/** Starts of the buckets that overlap `[from, to)`, oldest first. */
export function bucketStarts(granularity: UsageGranularity, from: number, to: number): number[] {
  const size = BUCKET_MS[granularity]
  const starts: number[] = []
  for (let start = bucketStart(from, granularity); start < to; start += size) starts.push(start)
  return starts
}

/** Counts of every outcome, all zero. */
export function zeroCounts(): Record<UsageOutcome, number> {
  const counts = {} as Record<UsageOutcome, number>
  for (const outcome of USAGE_OUTCOMES) counts[outcome] = 0
  return counts
}
