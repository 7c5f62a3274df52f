/**
 * `charge` on Redis: everything a request spends in at most one round trip. Strict counters and
 * the credit pool go to one script on the owner's slot (`CHARGE_SCRIPT`); local-first counters are
 * taken in process (`local-first.ts`); a counter already over its limit is answered from memory
 * until its window ends (no round trip at all). In fail-open mode, when Redis cannot answer, strict
 * counters fall back to in-process insurance limits with the same policies; credits never do.
 */
import { StoreError } from '@keyward/core'
import {
  type ChargeRequest,
  type ChargeResult,
  type CreditSpend,
  InProcessLimits,
  type LimitRequest,
  limitState,
  outcomeOf,
  type RateLimitState,
  type ResolvedPolicy,
} from '@keyward/core/store'
import type { CommandGuard } from './command-guard.ts'
import type { KeyLayout } from './key-layout.ts'
import type { LocalFirstLimits } from './local-first.ts'
import type { FailMode } from './options.ts'

type ChargeScript = (...args: (string | number)[]) => Promise<[number, number[], SpendReply?]>
type SpendReply = [number, string, string, string] | null

/** A charge's result plus what the pool said, so the record cache can show fresh credits. */
export interface RedisChargeResult extends ChargeResult {
  refilledAt: number | null
}

/** Counters remembered per process: an over-limit block, and the last state for headers. */
interface Known {
  blockedUntil: number
  remaining: number
  resetAt: number
}

const MAX_KNOWN = 100_000
/** Counter names remembered per policy object (a shared default policy sees every key). */
const MAX_NAMES_PER_POLICY = 10_000

export class RedisCharge {
  private readonly known = new Map<string, Known>()
  // Counter names per policy object, then per key chain (key budgets) or owner (owner budgets).
  // Building the name per request made a new string each time, which every Map lookup on it then
  // had to flatten and hash; a remembered name carries its hash.
  private readonly names = new WeakMap<
    ResolvedPolicy,
    { key: Map<string, string>; owner: Map<string, string> }
  >()
  private readonly insurance = new InProcessLimits()

  constructor(
    private readonly guard: CommandGuard,
    private readonly script: ChargeScript,
    private readonly layout: KeyLayout,
    private readonly localFirst: LocalFirstLimits,
    private readonly failMode: FailMode,
  ) {}

  async charge(request: ChargeRequest): Promise<RedisChargeResult> {
    const { limits, ownerId, chainId } = request
    const at = Date.now()
    const counters = limits.map((limit) => this.counterOf(limit, request))
    const states: RateLimitState[] = new Array(limits.length)
    const strict: number[] = []
    const taken: string[] = []
    let refused = false
    limits.forEach((limit, index) => {
      const key = counters[index] as string
      if (limit.policy.syncMs !== null) {
        const local = this.localFirst.take(key, this.layout.ownerDigest(ownerId), limit.policy)
        states[index] = local.state
        if (local.allowed) taken.push(key)
        else refused = true
        return
      }
      const known = this.known.get(key)
      if (known !== undefined && known.blockedUntil > at) {
        states[index] = limitState(limit.policy, 0, known.blockedUntil - at, true)
        refused = true
        return
      }
      strict.push(index)
    })
    if (refused) {
      // Refused in process: nothing reached Redis; strict counters show what was last known.
      for (const index of strict)
        states[index] = this.lastKnown(limits[index] as LimitRequest, counters[index] as string, at)
      for (const key of taken) this.localFirst.refund(key)
      return { ...outcomeOf(states), refilledAt: null }
    }
    if (strict.length === 0 && request.credits === null) {
      return { ...outcomeOf(states), refilledAt: null }
    }
    const keys: string[] = strict.map((index) => counters[index] as string)
    const args: (string | number)[] = [
      request.now,
      request.credits === null ? -1 : request.credits.cost,
      strict.length,
    ]
    for (const index of strict) {
      const policy = (limits[index] as LimitRequest).policy
      args.push(policy.points, policy.duration * 1000, policy.blockDuration * 1000)
    }
    if (request.credits !== null) {
      keys.push(
        request.credits.from === 'key'
          ? this.layout.keyPool(ownerId, chainId)
          : this.layout.ownerPool(ownerId),
      )
    }
    let reply: [number, number[], SpendReply?]
    try {
      reply = await this.guard.run('charge', () => this.script(keys.length, ...keys, ...args))
    } catch (error) {
      if (this.failMode === 'open' && request.credits === null && error instanceof StoreError) {
        return this.insure(request, strict, states, taken)
      }
      for (const key of taken) this.localFirst.refund(key)
      throw error
    }
    const [limited, consumed, spendReply] = reply
    strict.forEach((index, position) => {
      const limit = limits[index] as LimitRequest
      const count = Number(consumed[2 * position])
      const ttl = Number(consumed[2 * position + 1])
      const rejected = count > limit.policy.points
      // A refused request gave the other counters their point back (in the script).
      const remaining = limit.policy.points - count + (limited === 1 && !rejected ? 1 : 0)
      states[index] = limitState(limit.policy, remaining, ttl, rejected)
      this.remember(counters[index] as string, rejected ? at + ttl : 0, Math.max(0, remaining), at + ttl)
    })
    if (limited === 1) {
      for (const key of taken) this.localFirst.refund(key)
      return { ...outcomeOf(states), refilledAt: null }
    }
    const outcome = outcomeOf(states)
    if (request.credits === null || spendReply === undefined || spendReply === null) {
      return { ...outcome, credits: null, refilledAt: null }
    }
    const [spent, remaining, nextRefillAt, refilledAt] = spendReply
    const credits: CreditSpend = {
      spent: spent === 1,
      remaining: Number(remaining),
      nextRefillAt: nextRefillAt === '-1' ? null : Number(nextRefillAt),
    }
    return { ...outcome, credits, refilledAt: Number(refilledAt) }
  }

  private counterOf(limit: LimitRequest, request: ChargeRequest): string {
    let names = this.names.get(limit.policy)
    if (names === undefined) {
      names = { key: new Map(), owner: new Map() }
      this.names.set(limit.policy, names)
    }
    // A key chain belongs to one owner, so the chain id alone names a key budget's counter.
    const byScope = limit.scope === 'key' ? names.key : names.owner
    const id = limit.scope === 'key' ? request.chainId : request.ownerId
    let name = byScope.get(id)
    if (name === undefined) {
      name = this.layout.counter(
        request.ownerId,
        limit.scope === 'key' ? `k:${request.chainId}` : 'o',
        limit.policy,
      )
      if (byScope.size >= MAX_NAMES_PER_POLICY) byScope.clear()
      byScope.set(id, name)
    }
    return name
  }

  private remember(key: string, blockedUntil: number, remaining: number, resetAt: number): void {
    if (this.known.size >= MAX_KNOWN && !this.known.has(key)) {
      const oldest = this.known.keys().next()
      if (!oldest.done) this.known.delete(oldest.value)
    }
    this.known.set(key, { blockedUntil, remaining, resetAt })
  }

  private lastKnown(limit: LimitRequest, key: string, at: number): RateLimitState {
    const known = this.known.get(key)
    if (known === undefined || known.resetAt <= at) {
      return limitState(limit.policy, limit.policy.points, limit.policy.duration * 1000, false)
    }
    return limitState(limit.policy, known.remaining, known.resetAt - at, false)
  }

  /** Redis could not answer, fail-open, no credits asked: the strict counters count in process. */
  private async insure(
    request: ChargeRequest,
    strict: number[],
    states: RateLimitState[],
    taken: string[],
  ): Promise<RedisChargeResult> {
    const limits = strict.map((index) => request.limits[index] as LimitRequest)
    const insured = await this.insurance.consume(limits, request.chainId, request.ownerId)
    strict.forEach((index, position) => {
      states[index] = insured.states[position] as RateLimitState
    })
    if (insured.limited) for (const key of taken) this.localFirst.refund(key)
    return { ...outcomeOf(states), refilledAt: null }
  }
}
