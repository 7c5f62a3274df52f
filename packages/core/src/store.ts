// @keyward/core/store — what a `KeyStore` implementation needs beyond the root entry: the record
// types it keeps, the credit arithmetic its atomic spend must reproduce, the usage batches it adds
// up, and the abuse-signal state it shares (docs/architecture.md).
export { ABUSE_KINDS, type AbuseEvent, type AbuseKind } from './abuse/abuse-model.ts'
export { type CreditSpend, refillCredits, spendFrom } from './credits.ts'
export { LinkedMap } from './linked-map.ts'
export type {
  AbuseCountIncrement,
  AbuseHistoryLimits,
  AbuseHistoryQuery,
  AbuseRateIncrement,
  AbuseSetIncrement,
  AbuseState,
  AbuseTally,
  AbuseTallyResult,
  AbuseWindow,
} from './store/abuse-interface.ts'
export {
  budgetOf,
  InProcessLimits,
  type LimitOutcome,
  limitState,
  outcomeOf,
} from './store/in-process-limits.ts'
export type {
  ChargeRequest,
  ChargeResult,
  GuardBlock,
  KeyChanges,
  KeyStore,
  LimitRequest,
  ListOptions,
  ListPage,
  OwnerChanges,
  SharedGuardListener,
  SharedGuardState,
} from './store/interface.ts'
export { MemoryAbuse } from './store/memory-abuse.ts'
export type {
  StoredUsage,
  UsageBatch,
  UsageBucketIncrement,
  UsageCounts,
  UsageKeyAmounts,
  UsageLogEntry,
  UsageRangeQuery,
  UsageRankingBucket,
  UsageRankingIncrement,
  UsageRankingQuery,
  UsageSeries,
  UsageSeriesIncrement,
} from './store/usage-interface.ts'
export type { RateLimitState, ResolvedPolicy, StoredCredits, StoredKey, StoredOwner } from './types.ts'
export {
  USAGE_METRICS,
  USAGE_OUTCOMES,
  type UsageGranularity,
  type UsageMetric,
  type UsageOutcome,
} from './usage/usage-model.ts'
export {
  checkInteger,
  checkObject,
  checkOneOf,
  configError,
  type FieldError,
  type IntegerRange,
  optionalInteger,
} from './validation.ts'
