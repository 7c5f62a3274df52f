export { refillCredits, spendFrom } from './credits.ts'
export {
  ConfigError,
  InvalidArgumentError,
  KeyNotFoundError,
  KeywardError,
  KeywardErrorCode,
  StoreError,
} from './errors.ts'
export type { KeyLifecycleEvent, KeywardEventName, KeywardEvents, VerificationEvent } from './events.ts'
export { KeywardEmitter } from './events.ts'
export { KeyHasher, type Pepper } from './hashing.ts'
// HTTP layer shared by the Express, Hono and Koa adapters (DESIGN §4).
export * from './http/index.ts'
export {
  BASE62_ALPHABET,
  checksum,
  type Environment,
  formatKey,
  generateKey,
  isWellFormedKey,
  keyPattern,
  MAX_KEY_LENGTH,
  type ParsedKey,
  parseKey,
  type RandomSource,
  randomBase62,
} from './key-format.ts'
export {
  type CreatedKey,
  type CreateKeyInput,
  createKeyward,
  type KeyManager,
  type Keyward,
  type KeywardOptions,
  type ListKeysOptions,
  type RotateOptions,
  type UpdateKeyInput,
} from './keyward.ts'
export { resolvePolicies } from './rate-limits.ts'
export {
  checkRequirement,
  isValidScope,
  missingScopes,
  type ScopeRequirement,
  satisfies,
  scopeCovers,
} from './scopes.ts'
export type {
  CreditSpend,
  KeyChanges,
  KeyStore,
  ListOptions,
  ListPage,
  PolicyLimiter,
  RateLimiterResult,
} from './store/interface.ts'
export { MemoryStore } from './store/memory-store.ts'
export {
  type CreditRefill,
  type CreditsInput,
  type KeyRecord,
  type RateLimitPolicy,
  type RateLimitState,
  type ResolvedPolicy,
  type StoredCredits,
  type StoredKey,
  type VerifiedKey,
  VerifyCode,
  type VerifyFailure,
  type VerifyOptions,
  type VerifyResult,
  type VerifySuccess,
} from './types.ts'
