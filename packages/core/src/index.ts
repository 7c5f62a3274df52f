// @keyward/core — what applications call. Framework adapters import `@keyward/core/adapter`, store
// implementations `@keyward/core/store`, test suites `@keyward/core/testing`.

export type { AbuseStats, KeywardAbuse } from './abuse/abuse-api.ts'
export {
  ABUSE_KINDS,
  type AbuseEvent,
  type AbuseKind,
  type FailedBurstAbuseEvent,
  type ManyNetworksAbuseEvent,
  type SpikeAbuseEvent,
  type WrongSecretAbuseEvent,
} from './abuse/abuse-model.ts'
export type {
  AbuseHistoryOptions,
  AbuseOptions,
  FailedBurstOptions,
  ManyNetworksOptions,
  SpikeOptions,
  WrongSecretOptions,
} from './abuse/abuse-options.ts'
export {
  ConfigError,
  DuplicateIdError,
  InvalidArgumentError,
  KeyNotFoundError,
  KeywardError,
  KeywardErrorCode,
  OwnerNotFoundError,
  StoreError,
} from './errors.ts'
export type {
  GuardBlockedEvent,
  KeyLifecycleEvent,
  KeywardEmitter,
  KeywardEventName,
  KeywardEvents,
  OwnerLifecycleEvent,
  UsageDroppedEvent,
  UsageFlushEvent,
  VerificationEvent,
} from './events.ts'
export type { BruteForceGuard, GuardBlock } from './guard/brute-force-guard.ts'
export type { BruteForceOptions } from './guard/options.ts'
export type { Pepper } from './hashing.ts'
export {
  type Environment,
  isWellFormedKey,
  keyPattern,
  type ParsedKey,
  parseKey,
  type RandomSource,
} from './key-format.ts'
export {
  createKeyward,
  type Keyward,
  type VerifyFunction,
  type VerifyWrapper,
} from './keyward/create-keyward.ts'
export type { AuditOptions } from './keyward/key-input.ts'
export type {
  CreatedKey,
  CreateKeyInput,
  KeyManager,
  ListKeysOptions,
  RotateOptions,
  UpdateKeyInput,
} from './keyward/key-manager.ts'
export type { KeywardOptions } from './keyward/options.ts'
export type { OwnerInput, OwnerManager } from './keyward/owner-manager.ts'
export type { ScopeRequirement } from './scopes.ts'
export type { KeyStore } from './store/interface.ts'
export { MemoryStore } from './store/memory-store.ts'
export type {
  CreditRefill,
  CreditsInput,
  InsufficientScopeFailure,
  InvalidRequestFailure,
  KeyRecord,
  KeyStateFailure,
  MalformedFailure,
  MissingFailure,
  NotFoundFailure,
  OwnerRecord,
  QuotaExceededFailure,
  RateLimitedFailure,
  RateLimitPolicy,
  RateLimitState,
  UnavailableFailure,
  VerifiedKey,
  VerifyFailure,
  VerifyOptions,
  VerifyResult,
  VerifySuccess,
} from './types.ts'
export {
  USAGE_OUTCOMES,
  type UsageGranularity,
  type UsageMetric,
  type UsageOutcome,
} from './usage/usage-model.ts'
export type { UsageOptions } from './usage/usage-options.ts'
export type {
  KeywardUsage,
  UsageBucket,
  UsageCountsByOutcome,
  UsageQuery,
  UsageReport,
  UsageTarget,
  UsageTopEntry,
  UsageTopQuery,
} from './usage/usage-queries.ts'
export type { UsageStats } from './usage/usage-recorder.ts'
export { VerifyCode } from './verify-codes.ts'
