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

/**
 * rate-limiter-flexible's in-memory counters, as `RateLimiterMemory` keeps them (its
 * `MemoryStorage`): `incrby` and `set` answer at once; only `consume` wraps them in a promise.
 */
interface CounterStorage {
  incrby(key: string, value: number, durationSec: number): RateLimiterRes
  set(key: string, value: number, durationSec: number): RateLimiterRes
}

/**
 * `RateLimiterMemory` whose `consume` can answer at once: `take` does what rate-limiter-flexible's
 * own `consume` does (same counters, same arithmetic, same block), minus the promise — a promise,
 * a closure and a microtask turn per request on the hot path. When a rate-limiter-flexible
 * version keeps its counters differently, `counters` is `null` and `take` is not used: the
 * limiter's `consume` is (`in-process-limits.test.ts` checks both agree, so an upgrade that
 * changes them fails there).
 */
class ImmediateLimiter extends RateLimiterMemory {
  readonly counters: CounterStorage | null

  constructor(options: { points: number; duration: number; blockDuration: number }) {
    super({ ...options, keyPrefix: '' })
    const storage = (this as unknown as { _memoryStorage?: Partial<CounterStorage> })._memoryStorage
    this.counters =
      typeof storage?.incrby === 'function' && typeof storage.set === 'function'
        ? (storage as CounterStorage)
        : null
  }

  /** `consume(id, 1)` answered at once, as the state of `policy` (`retryAfterMs` when refused). */
  take(counters: CounterStorage, id: string, policy: ResolvedPolicy): RateLimitState {
    const result = counters.incrby(id, 1, this.duration)
    const consumed = result.consumedPoints
    if (consumed <= this.points) return limitState(policy, this.points - consumed, result.msBeforeNext, false)
    // Blocked the first time it goes over, as `consume` does.
    if (this.blockDuration > 0 && consumed <= this.points + 1) {
      return limitState(policy, 0, counters.set(id, consumed, this.blockDuration).msBeforeNext, true)
    }
    return limitState(policy, 0, result.msBeforeNext, true)
  }

  /** `reward(id, 1)` at once. */
  giveBack(counters: CounterStorage, id: string): void {
    counters.incrby(id, -1, this.duration)
  }
}

/** A policy's two limiters: key budgets and owner budgets never share a counter. */
interface ScopedLimiters {
  key: ImmediateLimiter
  owner: ImmediateLimiter
}

export class InProcessLimits {
  private readonly limiters = new Map<string, ScopedLimiters>()
  // Policy objects live as long as their record, so most lookups hit here without building a key.
  private readonly byPolicy = new WeakMap<ResolvedPolicy, ScopedLimiters>()

  private limiterFor(limit: LimitRequest): ImmediateLimiter {
    const policy = limit.policy
    let limiters = this.byPolicy.get(policy)
    if (limiters === undefined) {
      const id = `${policy.name}:${policy.points}:${policy.duration}:${policy.blockDuration}`
      limiters = this.limiters.get(id)
      if (limiters === undefined) {
        const options = {
          points: policy.points,
          duration: policy.duration,
          blockDuration: policy.blockDuration,
        }
        limiters = { key: new ImmediateLimiter(options), owner: new ImmediateLimiter(options) }
        this.limiters.set(id, limiters)
      }
      this.byPolicy.set(policy, limiters)
    }
    return limit.scope === 'key' ? limiters.key : limiters.owner
  }

  /**
   * Takes a point from every limit at once, refunding the others when one rejects; `undefined`
   * when a limiter cannot answer without its promise (see `ImmediateLimiter`): use `consume`.
   */
  consumeNow(limits: readonly LimitRequest[], chainId: string, ownerId: string): LimitOutcome | undefined {
    if (limits.length === 1) {
      // The common case, on the hot path: no array walk, no refund.
      const limit = limits[0] as LimitRequest
      const limiter = this.limiterFor(limit)
      const counters = limiter.counters
      if (counters === null) return undefined
      const state = limiter.take(counters, budgetId(limit, chainId, ownerId), limit.policy)
      if (state.retryAfterMs !== undefined) return outcomeOf([state])
      return { states: [state], limited: false, retryAfterMs: 0, credits: null }
    }
    const limiters = limits.map((limit) => this.limiterFor(limit))
    if (limiters.some((limiter) => limiter.counters === null)) return undefined
    const states = limits.map((limit, index) => {
      const limiter = limiters[index] as ImmediateLimiter
      return limiter.take(limiter.counters as CounterStorage, budgetId(limit, chainId, ownerId), limit.policy)
    })
    const outcome = outcomeOf(states)
    if (outcome.limited) this.refund(limits, chainId, ownerId, states)
    return outcome
  }

  /** Takes a point from every limit; refunds the others when one rejects. */
  consume(limits: readonly LimitRequest[], chainId: string, ownerId: string): Promise<LimitOutcome> {
    const now = this.consumeNow(limits, chainId, ownerId)
    if (now !== undefined) return Promise.resolve(now)
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
      const limiter = this.limiterFor(limit)
      const id = budgetId(limit, chainId, ownerId)
      if (limiter.counters !== null) {
        limiter.giveBack(limiter.counters, id)
        return
      }
      limiter.reward(id, 1).catch(() => {
        // In memory a reward cannot fail; nothing to do if it ever did.
      })
    })
  }

  private rejected(policy: ResolvedPolicy, rejection: unknown): RateLimitState {
    if (isLimiterResult(rejection)) return limitState(policy, 0, rejection.msBeforeNext, true)
    throw rejection
  }
}
