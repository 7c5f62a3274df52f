// @keyward/core/store — what a `KeyStore` implementation needs beyond the root entry: the record
// types it keeps and the credit arithmetic its atomic spend must reproduce (docs/architecture.md).
export { type CreditSpend, refillCredits, spendFrom } from './credits.ts'
export { LinkedMap } from './linked-map.ts'
export type {
  GuardBlock,
  KeyChanges,
  KeyStore,
  ListOptions,
  ListPage,
  PolicyLimiter,
  RateLimiterResult,
  SharedGuardListener,
  SharedGuardState,
} from './store/interface.ts'
export type { ResolvedPolicy, StoredCredits, StoredKey } from './types.ts'
export {
  checkInteger,
  checkObject,
  checkOneOf,
  configError,
  type FieldError,
  type IntegerRange,
  optionalInteger,
} from './validation.ts'
