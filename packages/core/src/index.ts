// @keyward/core — what applications call. Framework adapters import `@keyward/core/adapter`, store
// implementations `@keyward/core/store`, test suites `@keyward/core/testing`.
export {
  ConfigError,
  DuplicateIdError,
  InvalidArgumentError,
  KeyNotFoundError,
  KeywardError,
  KeywardErrorCode,
  StoreError,
} from './errors.ts'
export type {
  GuardBlockedEvent,
  KeyLifecycleEvent,
  KeywardEmitter,
  KeywardEventName,
  KeywardEvents,
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
export { createKeyward, type Keyward } from './keyward/create-keyward.ts'
export type {
  CreatedKey,
  CreateKeyInput,
  KeyManager,
  ListKeysOptions,
  RotateOptions,
  UpdateKeyInput,
} from './keyward/key-manager.ts'
export type { KeywardOptions } from './keyward/options.ts'
export type { ScopeRequirement } from './scopes.ts'
export type { KeyStore } from './store/interface.ts'
export { MemoryStore } from './store/memory-store.ts'
export type {
  CreditRefill,
  CreditsInput,
  InsufficientScopeFailure,
  KeyRecord,
  KeyStateFailure,
  MalformedFailure,
  MissingFailure,
  NotFoundFailure,
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
export { VerifyCode } from './verify-codes.ts'
