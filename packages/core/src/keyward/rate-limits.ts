/**
 * Rate limiting on rate-limiter-flexible. One limiter per distinct policy (created by the
 * store, so it lives where the store does), keyed by key id. A key with several policies consumes
 * from all of them; it is limited when any one rejects.
 */
import { StoreError } from '../errors.ts'
import type { KeyStore, PolicyLimiter, RateLimiterResult } from '../store/interface.ts'
import type { RateLimitState, ResolvedPolicy } from '../types.ts'

export interface ConsumeOutcome {
  limited: boolean
  states: RateLimitState[]
  retryAfterMs: number
}

function isLimiterResult(value: unknown): value is RateLimiterResult {
  return value !== null && typeof value === 'object' && !(value instanceof Error) && 'msBeforeNext' in value
}

function toState(policy: ResolvedPolicy, result: RateLimiterResult, rejected: boolean): RateLimitState {
  const resetMs = Math.max(0, result.msBeforeNext)
  const state: RateLimitState = {
    policy: policy.name,
    limit: policy.points,
    remaining: rejected ? 0 : Math.max(0, result.remainingPoints),
    window: policy.duration,
    resetMs,
  }
  if (rejected) state.retryAfterMs = resetMs
  return state
}

export class RateLimits {
  private readonly limiters = new Map<string, PolicyLimiter>()
  // Policy objects live as long as their record, so most lookups hit here without building a key.
  private readonly byPolicy = new WeakMap<ResolvedPolicy, PolicyLimiter>()

  constructor(private readonly store: KeyStore) {}

  private limiterFor(policy: ResolvedPolicy): PolicyLimiter {
    let limiter = this.byPolicy.get(policy)
    if (limiter !== undefined) return limiter
    const id = `${policy.name}:${policy.points}:${policy.duration}:${policy.blockDuration}`
    limiter = this.limiters.get(id)
    if (limiter === undefined) {
      limiter = this.store.createLimiter(policy)
      this.limiters.set(id, limiter)
    }
    this.byPolicy.set(policy, limiter)
    return limiter
  }

  /** Takes one point from each policy for `keyId`. Throws `StoreError` if the backend failed. */
  consume(keyId: string, policies: readonly ResolvedPolicy[]): Promise<ConsumeOutcome> {
    if (policies.length === 1) {
      // The common case, on the hot path: one promise from the limiter, no async wrappers.
      const policy = policies[0] as ResolvedPolicy
      return this.limiterFor(policy)
        .consume(keyId, 1)
        .then(
          (result) => ({ limited: false, states: [toState(policy, result, false)], retryAfterMs: 0 }),
          (rejection: unknown) => this.collect([this.rejected(policy, rejection)]),
        )
    }
    return this.consumeAll(keyId, policies)
  }

  private async consumeAll(keyId: string, policies: readonly ResolvedPolicy[]): Promise<ConsumeOutcome> {
    const outcome = this.collect(await Promise.all(policies.map((policy) => this.consumeOne(policy, keyId))))
    if (outcome.limited) this.refundAccepted(keyId, policies, outcome.states)
    return outcome
  }

  /**
   * A request one policy rejected must not use up the others (a burst against 3/s would otherwise
   * drain 5/h with requests that were never served): give their points back, best effort.
   */
  private refundAccepted(keyId: string, policies: readonly ResolvedPolicy[], states: RateLimitState[]): void {
    policies.forEach((policy, index) => {
      const state = states[index]
      const limiter = this.limiterFor(policy)
      if (state === undefined || state.retryAfterMs !== undefined || limiter.reward === undefined) return
      state.remaining = Math.min(policy.points, state.remaining + 1)
      limiter.reward(keyId, 1).catch(() => {
        // A failed refund only costs the key a point; the request outcome is already decided.
      })
    })
  }

  private async consumeOne(policy: ResolvedPolicy, keyId: string): Promise<RateLimitState> {
    try {
      return toState(policy, await this.limiterFor(policy).consume(keyId, 1), false)
    } catch (rejection) {
      return this.rejected(policy, rejection)
    }
  }

  /** A limiter rejection: over the limit (a limiter result), or a backend failure (`StoreError`). */
  private rejected(policy: ResolvedPolicy, rejection: unknown): RateLimitState {
    if (isLimiterResult(rejection)) return toState(policy, rejection, true)
    throw new StoreError('keyward: rate limiter backend failed', { cause: rejection })
  }

  private collect(states: RateLimitState[]): ConsumeOutcome {
    let retryAfterMs = 0
    for (const state of states) {
      if (state.retryAfterMs !== undefined && state.retryAfterMs > retryAfterMs)
        retryAfterMs = state.retryAfterMs
    }
    const limited = states.some((state) => state.retryAfterMs !== undefined)
    return { limited, states, retryAfterMs }
  }
}
