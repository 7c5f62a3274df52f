/**
 * The public data types: key records as the store keeps them (`StoredKey`), as callers see them
 * (`KeyRecord`, `VerifiedKey`), rate-limit policies and credits, and the result of `verify`.
 */
import type { Environment } from './key-format.ts'
import type { ScopeRequirement } from './scopes.ts'

/** A rate-limit policy: at most `points` requests per `duration` seconds. */
export interface RateLimitPolicy {
  /** Name shown in the `RateLimit-Policy` header. Default: `default` for the installation-wide
   * policy, `<points>-per-<duration>s` for a key's own. */
  name?: string
  points: number
  /** Window length in seconds. */
  duration: number
  /** Once over the limit, keep the key blocked this many seconds. Default: until the window ends. */
  blockDuration?: number
  /**
   * Local-first counting (on a shared store such as Redis): requests are counted in this process
   * and reconciled with the store every `intervalMs`, in batches, so the policy adds no blocking
   * round trip; the price is a bounded overshoot (about processes × interval × rate, see
   * docs/redis.md). Absent: counted in the store on every request (strict).
   */
  sync?: { intervalMs: number }
}

/** A policy with its name resolved. */
export interface ResolvedPolicy {
  name: string
  points: number
  duration: number
  blockDuration: number
  /** Local-first reconciliation interval in ms, or `null` for a strict policy. */
  syncMs: number | null
}

export interface CreditRefill {
  /** Every `interval` ms, `remaining` is topped up to `amount` (never lowered). */
  amount: number
  interval: number
}

export interface CreditsInput {
  remaining: number
  refill?: CreditRefill
}

export interface StoredCredits {
  remaining: number
  refill: CreditRefill | null
  /** Epoch ms of the last refill (or of creation). */
  refilledAt: number
}

/**
 * A key record as the store keeps it: JSON-safe, times in epoch ms. It holds the HMAC of the key,
 * never the key. The store is the authority on `credits.remaining`.
 */
export interface StoredKey {
  id: string
  ownerId: string
  name: string | null
  environment: Environment
  /** base64url HMAC-SHA-256(pepper, key). */
  hash: string
  pepperVersion: number
  scopes: string[]
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  revokedAt: number | null
  disabled: boolean
  /** Why it was disabled (the `reason` of the update that disabled it); absent or `null` otherwise. */
  disabledReason?: string | null
  rateLimit: ResolvedPolicy[] | null
  credits: StoredCredits | null
  meta: Record<string, unknown>
  /** Set on a key made by `rotate`: the id it replaced. */
  rotatedFrom: string | null
  /** Set on a key replaced by `rotate`: the id of its successor. */
  rotatedTo: string | null
  /**
   * The id of the first key of its rotation chain (its own id for a key never rotated). Every key
   * of a chain shares one rate-limit budget and one credit pool.
   */
  chainId: string
  /** CIDRs the key may be used from (normalised, e.g. `203.0.113.0/24`); `null`: anywhere. */
  allowedNetworks: string[] | null
}

/**
 * An owner (a customer, an organisation) as the store keeps it: policies and a credit pool shared
 * by all of its keys. Keys of an owner without a record are limited by their own settings only.
 */
export interface StoredOwner {
  id: string
  rateLimit: ResolvedPolicy[] | null
  credits: StoredCredits | null
  meta: Record<string, unknown>
  createdAt: number
  updatedAt: number
}

/** An owner as `owners.set/get/update` return it. */
export interface OwnerRecord {
  id: string
  rateLimit: ResolvedPolicy[] | null
  credits: { remaining: number; refill: CreditRefill | null; refilledAt: Date } | null
  meta: Record<string, unknown>
  createdAt: Date
  updatedAt: Date
}

/** A key record as returned by `keys.create/get/list/update/revoke/rotate`. No secret, no hash. */
export interface KeyRecord {
  id: string
  ownerId: string
  name: string | null
  environment: Environment
  scopes: string[]
  createdAt: Date
  updatedAt: Date
  expiresAt: Date | null
  revokedAt: Date | null
  disabled: boolean
  /**
   * Why the key is disabled: the `reason` given to the `update` that disabled it (abuse quarantine
   * writes one); `null` when it is enabled or none was given. Cleared when the key is re-enabled.
   */
  disabledReason: string | null
  rateLimit: ResolvedPolicy[] | null
  credits: { remaining: number; refill: CreditRefill | null; refilledAt: Date } | null
  meta: Record<string, unknown>
  rotatedFrom: string | null
  rotatedTo: string | null
  /** CIDRs the key may be used from; `null`: anywhere. */
  allowedNetworks: string[] | null
  /**
   * The last time the key was presented with its secret (whatever the outcome), or `null`. Written
   * at most once per `usage.lastUsedIntervalMs`, so it may lag by up to that much. In the result of
   * `update`, `revoke` and `rotate` it is best effort: `null` if it could not be read after the write.
   */
  lastUsedAt: Date | null
}

/** What a verified request learns about its key (on the request as `apiKey`). */
export interface VerifiedKey {
  id: string
  ownerId: string
  name: string | null
  environment: Environment
  scopes: readonly string[]
  expiresAt: Date | null
  meta: Readonly<Record<string, unknown>>
}

/** Rate-limit state of one policy after a request, as the HTTP layer needs it. */
export interface RateLimitState {
  policy: string
  /** Requests allowed per window (`q`). */
  limit: number
  /** Requests left in this window (`r`). */
  remaining: number
  /** Window length in seconds (`w`). */
  window: number
  /** Milliseconds until the window resets (`t`, rounded up to seconds in headers). */
  resetMs: number
  /** Set when this policy rejected the request: ms until a retry can succeed. */
  retryAfterMs?: number
}

export interface VerifySuccess {
  valid: true
  key: VerifiedKey
  rateLimit?: RateLimitState[]
  credits?: { remaining: number }
}

/** The presented value was empty: no key at all. */
export interface MissingFailure {
  valid: false
  code: 'MISSING'
}

/** Not a key of this installation (shape, prefix or checksum): answered without a store access. */
export interface MalformedFailure {
  valid: false
  code: 'MALFORMED'
}

/**
 * An unknown id, or a known id with the wrong secret: the same result, response and event for both
 * (ids are public; only latency may tell a cached id from an unknown one).
 */
export interface NotFoundFailure {
  valid: false
  code: 'NOT_FOUND'
}

/**
 * The key matched but may not be used: revoked, expired, disabled, of the other environment, or
 * presented from outside its `allowedNetworks`.
 */
export interface KeyStateFailure<
  C extends 'REVOKED' | 'EXPIRED' | 'DISABLED' | 'WRONG_ENVIRONMENT' | 'FORBIDDEN_NETWORK',
> {
  valid: false
  code: C
  key: VerifiedKey
}

export interface InsufficientScopeFailure {
  valid: false
  code: 'INSUFFICIENT_SCOPE'
  key: VerifiedKey
  /** The required scopes the key lacks. */
  missingScopes: string[]
}

export interface RateLimitedFailure {
  valid: false
  code: 'RATE_LIMITED'
  key: VerifiedKey
  /** Until a retry can succeed. */
  retryAfterMs: number
  rateLimit: RateLimitState[]
}

export interface QuotaExceededFailure {
  valid: false
  code: 'QUOTA_EXCEEDED'
  key: VerifiedKey
  credits: { remaining: number }
  /** Until the credits refill enough for this cost; absent when no refill will. */
  retryAfterMs?: number
  /** The rate-limit state, when the key is rate limited too. */
  rateLimit?: RateLimitState[]
}

export interface UnavailableFailure {
  valid: false
  code: 'UNAVAILABLE'
  retryAfterMs: number
}

/**
 * The caller's own options could not be used (a malformed `scopes` requirement, a `cost` that is
 * not a non-negative integer, a `clientAddress` that is not a string): nothing was checked or
 * spent. `field` names the option, for the developer; it is never sent to the client.
 */
export interface InvalidRequestFailure {
  valid: false
  code: 'INVALID_REQUEST'
  field: 'scopes' | 'cost' | 'clientAddress' | 'options'
}

/** Why a key was refused: one member per `VerifyCode`, so a `switch` on `code` is exhaustive. */
export type VerifyFailure =
  | MissingFailure
  | MalformedFailure
  | NotFoundFailure
  | KeyStateFailure<'REVOKED'>
  | KeyStateFailure<'EXPIRED'>
  | KeyStateFailure<'DISABLED'>
  | KeyStateFailure<'WRONG_ENVIRONMENT'>
  | KeyStateFailure<'FORBIDDEN_NETWORK'>
  | InsufficientScopeFailure
  | RateLimitedFailure
  | QuotaExceededFailure
  | UnavailableFailure
  | InvalidRequestFailure

export type VerifyResult = VerifySuccess | VerifyFailure

export interface VerifyOptions {
  /** Scopes the key must have. */
  scopes?: ScopeRequirement | undefined
  /** Credits this request spends (default 1 for keys with credits; 0 spends none). */
  cost?: number | undefined
  /**
   * The client's IP address, checked against the key's `allowedNetworks` (a key with an allowlist
   * is `FORBIDDEN_NETWORK` without one). The middleware passes the request's address.
   */
  clientAddress?: string | undefined
}
