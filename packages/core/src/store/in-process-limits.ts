/**
 * Rate limits counted in this process, on rate-limiter-flexible's `RateLimiterMemory`: one
 * limiter per distinct policy and scope, keyed by the budget's identity (a rotation chain's id, or
 * an owner's id) as it is, with no key prefix: each limiter has its own map, so a prefix separates
 * nothing, and a key built per request (`rl:…:k:<id>`) had to be hashed and flattened on every
 * lookup, where the record's own id string carries its hash from the first one. A request takes a
 * point from every limit; when one rejects, the others get their point back, so a rejected request
 * costs nothing elsewhere. `MemoryStore` charges with it; a remote store can use it as its
 * insurance when the backend is unreachable.
 */
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible'
import type { RateLimitState, ResolvedPolicy } from '../types.ts'
import type { ChargeResult, LimitRequest } from './interface.ts'

/** A `ChargeResult` as the limits leave it: `credits` is filled in by whoever spends them. */
export type LimitOutcome = ChargeResult

/** The budget a limit counts against: the key's chain, or its owner. */
export function budgetOf(limit: LimitRequest, chainId: string, ownerId: string): string {
  return limit.scope === 'key' ? `k:${chainId}` : `o:${ownerId}`
}

function isLimiterResult(value: unknown): value is RateLimiterRes {
  return value !== null && typeof value === 'object' && !(value instanceof Error) && 'msBeforeNext' in value
}

/** A limit's state after a consume; `rejected` when this limit refused the request. */
export function limitState(
  policy: ResolvedPolicy,
  remainingPoints: number,
  msBeforeNext: number,
  rejected: boolean,
): RateLimitState {
  const resetMs = Math.max(0, msBeforeNext)
  const state: RateLimitState = {
    policy: policy.name,
    limit: policy.points,
    remaining: rejected ? 0 : Math.max(0, remainingPoints),
    window: policy.duration,
    resetMs,
  }
  if (rejected) state.retryAfterMs = resetMs
  return state
}

/** Collects per-limit states into an outcome: limited when any rejected, retry after the longest wait. */
export function outcomeOf(states: RateLimitState[]): LimitOutcome {
  let retryAfterMs = 0
  let limited = false
  for (const state of states) {
    if (state.retryAfterMs === undefined) continue
    limited = true
    if (state.retryAfterMs > retryAfterMs) retryAfterMs = state.retryAfterMs
  }
  return { states, limited, retryAfterMs, credits: null }
}

/** The id a limit's counter is kept under in its limiter: the chain's or the owner's own id. */
function budgetId(limit: LimitRequest, chainId: string, ownerId: string): string {
  return limit.scope === 'key' ? chainId : ownerId
}

/** A policy's two limiters: key budgets and owner budgets never share a counter. */
interface ScopedLimiters {
  key: RateLimiterMemory
  owner: RateLimiterMemory
}

export class InProcessLimits {
  private readonly limiters = new Map<string, ScopedLimiters>()
  // Policy objects live as long as their record, so most lookups hit here without building a key.
  private readonly byPolicy = new WeakMap<ResolvedPolicy, ScopedLimiters>()

  private limiterFor(limit: LimitRequest): RateLimiterMemory {
    const policy = limit.policy
    let limiters = this.byPolicy.get(policy)
    if (limiters === undefined) {
      const id = `${policy.name}:${policy.points}:${policy.duration}:${policy.blockDuration}`
      limiters = this.limiters.get(id)
      if (limiters === undefined) {
        const options = {
          keyPrefix: '',
          points: policy.points,
          duration: policy.duration,
          blockDuration: policy.blockDuration,
        }
        limiters = { key: new RateLimiterMemory(options), owner: new RateLimiterMemory(options) }
        this.limiters.set(id, limiters)
      }
      this.byPolicy.set(policy, limiters)
    }
    return limit.scope === 'key' ? limiters.key : limiters.owner
  }

  /** Takes a point from every limit; refunds the others when one rejects. */
  consume(limits: readonly LimitRequest[], chainId: string, ownerId: string): Promise<LimitOutcome> {
    if (limits.length === 1) {
      // The common case, on the hot path: one promise from the limiter, no async wrappers.
      const limit = limits[0] as LimitRequest
      const policy = limit.policy
      return this.limiterFor(limit)
        .consume(budgetId(limit, chainId, ownerId), 1)
        .then(
          (result): LimitOutcome => ({
            states: [limitState(policy, result.remainingPoints, result.msBeforeNext, false)],
            limited: false,
            retryAfterMs: 0,
            credits: null,
          }),
          (rejection: unknown) => outcomeOf([this.rejected(policy, rejection)]),
        )
    }
    return this.consumeAll(limits, chainId, ownerId)
  }

  private async consumeAll(
    limits: readonly LimitRequest[],
    chainId: string,
    ownerId: string,
  ): Promise<LimitOutcome> {
    const states = await Promise.all(
      limits.map(async (limit) => {
        try {
          const result = await this.limiterFor(limit).consume(budgetId(limit, chainId, ownerId), 1)
          return limitState(limit.policy, result.remainingPoints, result.msBeforeNext, false)
        } catch (rejection) {
          return this.rejected(limit.policy, rejection)
        }
      }),
    )
    const outcome = outcomeOf(states)
    if (outcome.limited) this.refund(limits, chainId, ownerId, states)
    return outcome
  }

  /** Gives a point back to every limit that did not reject (`states[i]` belongs to `limits[i]`). */
  refund(
    limits: readonly LimitRequest[],
    chainId: string,
    ownerId: string,
    states: readonly RateLimitState[],
  ): void {
    limits.forEach((limit, index) => {
      const state = states[index]
      if (state === undefined || state.retryAfterMs !== undefined) return
      state.remaining = Math.min(limit.policy.points, state.remaining + 1)
      this.limiterFor(limit)
        .reward(budgetId(limit, chainId, ownerId), 1)
        .catch(() => {
          // In memory a reward cannot fail; nothing to do if it ever did.
        })
    })
  }

  private rejected(policy: ResolvedPolicy, rejection: unknown): RateLimitState {
    if (isLimiterResult(rejection)) return limitState(policy, 0, rejection.msBeforeNext, true)
    throw rejection
  }
}
