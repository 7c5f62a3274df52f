/**
 * The verify pipeline: shape/crc → lookup → secret → disabled/revoked/expired → environment →
 * scopes → rate limits → credits (docs/architecture.md, "The path of a request"). Each step either
 * passes or ends the request with a `VerifyFailure`; every expected outcome is a value, and every
 * outcome is reported exactly once (a `verification` event and a usage count).
 */
import { parseKey } from '../key-format.ts'
import { toVerifiedKey } from '../records.ts'
import { missingScopes, type ScopeRequirement, satisfies } from '../scopes.ts'
import type { CreditSpend, KeyChanges } from '../store/interface.ts'
import type {
  QuotaExceededFailure,
  RateLimitState,
  StoredKey,
  VerifiedKey,
  VerifyFailure,
  VerifyOptions,
  VerifyResult,
  VerifySuccess,
} from '../types.ts'
import { argumentError, checkInteger } from '../validation.ts'
import type { VerifyCode } from '../verify-codes.ts'
import type { KeywardConfig } from './options.ts'
import { type ConsumeOutcome, RateLimits } from './rate-limits.ts'
import type { ReportVerification } from './verification-reporter.ts'

export type Verify = (token: string | null | undefined, options?: VerifyOptions) => Promise<VerifyResult>

/** The checks on a matched record that need no store: its state, then its environment. */
function stateCode(record: StoredKey, environment: string, keyEnvironment: string, at: number) {
  if (record.disabled) return 'DISABLED'
  if (record.revokedAt !== null && record.revokedAt <= at) return 'REVOKED'
  if (record.expiresAt !== null && record.expiresAt <= at) return 'EXPIRED'
  if (keyEnvironment !== environment) return 'WRONG_ENVIRONMENT'
  return null
}

export function createVerify(config: KeywardConfig, report: ReportVerification): Verify {
  const { prefix, environment, store, hasher, defaultPolicies, now } = config
  const rateLimits = new RateLimits(store)

  const fail = <F extends VerifyFailure>(failure: F, keyId: string | null, ownerId: string | null): F => {
    report(failure.code, keyId, ownerId, 0)
    return failure
  }

  const unavailable = (keyId: string | null, ownerId: string | null): VerifyFailure =>
    fail({ valid: false, code: 'UNAVAILABLE', retryAfterMs: config.unavailableRetryAfterMs }, keyId, ownerId)

  // Keys hashed under an older pepper move to the current one the first time they verify, so an
  // old pepper can be dropped from `secrets` once its keys have been seen. Best effort, once per id
  // at a time, off the request's path: a failed write only means it is tried again next time.
  const rehashing = new Set<string>()
  function rehash(record: StoredKey, token: string): void {
    if (rehashing.has(record.id)) return
    rehashing.add(record.id)
    const changes: KeyChanges = {
      hash: hasher.hash(token),
      pepperVersion: hasher.currentVersion,
      updatedAt: record.updatedAt,
    }
    store
      .update(record.id, changes)
      .catch(() => {})
      .finally(() => rehashing.delete(record.id))
  }

  /** Rate limits, then credits: the steps that spend something, once everything else passed. */
  async function spend(
    record: StoredKey,
    key: VerifiedKey,
    requestedCost: number | undefined,
    at: number,
  ): Promise<VerifyResult> {
    const policies = record.rateLimit ?? defaultPolicies
    let rateLimit: RateLimitState[] | undefined
    if (policies !== null) {
      let outcome: ConsumeOutcome
      try {
        outcome = await rateLimits.consume(record.id, policies)
      } catch {
        return unavailable(record.id, record.ownerId)
      }
      rateLimit = outcome.states
      if (outcome.limited) {
        return fail(
          { valid: false, code: 'RATE_LIMITED', key, retryAfterMs: outcome.retryAfterMs, rateLimit },
          record.id,
          record.ownerId,
        )
      }
    }

    let cost = 0
    let credits: { remaining: number } | undefined
    if (record.credits !== null) {
      cost = requestedCost ?? 1
      // During a rotation's grace period the old key spends from its successor's pool.
      let spent: CreditSpend | null
      try {
        spent = await store.spendCredits(record.rotatedTo ?? record.id, cost, at)
      } catch {
        return unavailable(record.id, record.ownerId)
      }
      if (spent === null) {
        cost = 0
      } else {
        credits = { remaining: spent.remaining }
        if (!spent.spent) {
          const failure: QuotaExceededFailure = { valid: false, code: 'QUOTA_EXCEEDED', key, credits }
          // A retry only helps when the refill can cover this cost.
          const refill = record.credits.refill
          if (spent.nextRefillAt !== null && refill !== null && refill.amount >= cost) {
            failure.retryAfterMs = Math.max(0, spent.nextRefillAt - at)
          }
          if (rateLimit !== undefined) failure.rateLimit = rateLimit
          return fail(failure, record.id, record.ownerId)
        }
      }
    }

    report('VALID', record.id, record.ownerId, cost, at)
    const success: VerifySuccess = { valid: true, key }
    if (rateLimit !== undefined) success.rateLimit = rateLimit
    if (credits !== undefined) success.credits = credits
    return success
  }

  return async function verify(token, options) {
    // A bad `cost` is a programmer error: refuse it up front, before any store access or rate-limit
    // point is spent, and whether or not the key happens to have credits.
    const requestedCost = options?.cost
    if (requestedCost !== undefined) checkInteger('cost', requestedCost, {}, argumentError)
    if (token === undefined || token === null || token === '') {
      return fail({ valid: false, code: 'MISSING' }, null, null)
    }
    const parsed = parseKey(token, prefix)
    if (parsed === null) return fail({ valid: false, code: 'MALFORMED' }, null, null)

    let record: StoredKey | null
    try {
      record = await store.get(parsed.id)
    } catch {
      return unavailable(parsed.id, null)
    }
    if (record === null) {
      // Hash anyway, so an unknown id and a wrong secret take the same time: no oracle for ids.
      hasher.hash(token)
      return fail({ valid: false, code: 'NOT_FOUND' }, parsed.id, null)
    }
    if (!hasher.matches(token, record.hash, record.pepperVersion)) {
      return fail({ valid: false, code: 'NOT_FOUND' }, parsed.id, null)
    }
    if (record.pepperVersion !== hasher.currentVersion) rehash(record, token)

    const key = toVerifiedKey(record)
    const at = now()
    const rejected: VerifyCode | null = stateCode(record, environment, parsed.environment, at)
    if (rejected !== null) {
      return fail({ valid: false, code: rejected, key } as VerifyFailure, record.id, record.ownerId)
    }

    const requirement = options?.scopes
    if (requirement !== undefined && !satisfies(record.scopes, requirement)) {
      return fail(
        {
          valid: false,
          code: 'INSUFFICIENT_SCOPE',
          key,
          missingScopes: missingScopes(record.scopes, requirement as ScopeRequirement),
        },
        record.id,
        record.ownerId,
      )
    }
    return spend(record, key, requestedCost, at)
  }
}
