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

/** The charge script, called with its key count, keys and arguments: by SHA-1, or with its text. */
export interface ChargeScript {
  /** `EVALSHA`: the usual call. */
  bySha(args: (string | number)[]): Promise<ChargeReply>
  /** `EVAL`: when the server has lost the script (a restart, `SCRIPT FLUSH`); it keeps it again. */
  withText(args: (string | number)[]): Promise<ChargeReply>
}

type ChargeReply = [number, number[], SpendReply?]
type SpendReply = [number, string, string, string] | null

/** Hears a pool's balance after a spend (`remaining`, as of the refill at `refilledAt`). */
export type SpentListener = (request: ChargeRequest, remaining: number, refilledAt: number) => void

/** What `charge` took in process, for its round trip: per limit its counter and state so far. */
interface Prepared {
  counters: string[]
  states: RateLimitState[]
  /** Indexes of the limits Redis counts. */
  strict: number[]
  /** Local-first counters a point was taken from (refunded when the request does not pass). */
  taken: string[] | null
}

/** Counters remembered per process: an over-limit block, and the last state for headers. */
interface Known {
  blockedUntil: number
  remaining: number
  resetAt: number
}

/** The server does not have the script (restarted, or `SCRIPT FLUSH`): send its text. */
function isNoScript(error: unknown): boolean {
  return error instanceof StoreError && /\bNOSCRIPT\b/.test(String(error.cause))
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
    private readonly spent: SpentListener,
  ) {}

  /**
   * `charge` answered in process, when it needs no round trip: no credits, and every limit
   * local-first or a strict counter known to be over its limit until its window ends. `undefined`
   * otherwise, having taken nothing (then `charge` does it all).
   */
  chargeNow(request: ChargeRequest): ChargeResult | undefined {
    if (request.credits !== null) return undefined
    const { limits } = request
    const at = Date.now()
    for (let index = 0; index < limits.length; index++) {
      const limit = limits[index] as LimitRequest
      if (limit.policy.syncMs !== null) continue
      const known = this.known.get(this.counterOf(limit, request))
      if (known === undefined || known.blockedUntil <= at) return undefined
    }
    return this.inProcess(request, at) as ChargeResult
  }

  /**
   * Runs on every request: plain loops and arrays sized once, no closures or result spreads (each
   * of those showed in the HTTP bench's profile).
   */
  charge(request: ChargeRequest): Promise<ChargeResult> {
    // Not async: an async function resolved with `roundTrip`'s promise would take two more
    // microtask turns per request than handing that promise on.
    const at = Date.now()
    let prepared: ChargeResult | Prepared
    try {
      prepared = this.inProcess(request, at)
    } catch (error) {
      return Promise.reject(error)
    }
    if (!('strict' in prepared)) return Promise.resolve(prepared)
    return this.roundTrip(request, prepared, at)
  }

  /**
   * What a charge takes in process: local-first points, and the refusal of a counter known to be
   * over its limit. The outcome when that decides it (refused, or nothing strict and no credits);
   * else what the round trip needs.
   */
  private inProcess(request: ChargeRequest, at: number): ChargeResult | Prepared {
    const { limits, ownerId } = request
    const count = limits.length
    const counters: string[] = new Array(count)
    const states: RateLimitState[] = new Array(count)
    const strict: number[] = []
    let taken: string[] | null = null
    let refused = false
    for (let index = 0; index < count; index++) {
      const limit = limits[index] as LimitRequest
      const key = this.counterOf(limit, request)
      counters[index] = key
      if (limit.policy.syncMs !== null) {
        const local = this.localFirst.take(key, this.layout.ownerDigest(ownerId), limit.policy)
        states[index] = local.state
        if (!local.allowed) refused = true
        else if (taken === null) taken = [key]
        else taken.push(key)
        continue
      }
      const known = this.known.get(key)
      if (known !== undefined && known.blockedUntil > at) {
        states[index] = limitState(limit.policy, 0, known.blockedUntil - at, true)
        refused = true
        continue
      }
      strict.push(index)
    }
    if (refused) {
      // Refused in process: nothing reached Redis; strict counters show what was last known.
      for (const index of strict)
        states[index] = this.lastKnown(limits[index] as LimitRequest, counters[index] as string, at)
      this.refund(taken)
      return outcomeOf(states)
    }
    if (strict.length === 0 && request.credits === null) return outcomeOf(states)
    return { counters, states, strict, taken }
  }

  /** The strict counters and the credit pool, in one script call. */
  private async roundTrip(request: ChargeRequest, prepared: Prepared, at: number): Promise<ChargeResult> {
    const { limits, ownerId, chainId } = request
    const { counters, states, strict, taken } = prepared
    const credits = request.credits
    // The script's KEYS (strict counters, then the pool) and ARGV, after ioredis' key count.
    const keyCount = strict.length + (credits === null ? 0 : 1)
    const args: (string | number)[] = new Array(1 + keyCount)
    args[0] = keyCount
    for (let position = 0; position < strict.length; position++) {
      args[1 + position] = counters[strict[position] as number] as string
    }
    if (credits !== null) {
      args[keyCount] =
        credits.from === 'key' ? this.layout.keyPool(ownerId, chainId) : this.layout.ownerPool(ownerId)
    }
    args.push(request.now, credits === null ? -1 : credits.cost, strict.length)
    for (const index of strict) {
      const policy = (limits[index] as LimitRequest).policy
      args.push(policy.points, policy.duration * 1000, policy.blockDuration * 1000)
    }
    // By SHA-1, and by its text only when the server has lost the script: called directly rather
    // than through ioredis' `defineCommand`, whose wrapper added a promise, a closure and an
    // argument copy to every request for that same fallback.
    let reply: ChargeReply
    try {
      reply = await this.guard.run('charge', () => this.script.bySha(args))
    } catch (error) {
      try {
        if (!isNoScript(error)) throw error
        reply = await this.guard.run('charge', () => this.script.withText(args))
      } catch (failure) {
        if (this.failMode === 'open' && credits === null && failure instanceof StoreError) {
          return this.insure(request, strict, states, taken)
        }
        this.refund(taken)
        throw failure
      }
    }
    const limited = reply[0] === 1
    const consumed = reply[1]
    for (let position = 0; position < strict.length; position++) {
      const index = strict[position] as number
      const policy = (limits[index] as LimitRequest).policy
      const used = Number(consumed[2 * position])
      const ttl = Number(consumed[2 * position + 1])
      const rejected = used > policy.points
      // A refused request gave the other counters their point back (in the script).
      const remaining = policy.points - used + (limited && !rejected ? 1 : 0)
      states[index] = limitState(policy, remaining, ttl, rejected)
      this.remember(counters[index] as string, rejected ? at + ttl : 0, Math.max(0, remaining), at + ttl)
    }
    const outcome = outcomeOf(states)
    if (limited) {
      this.refund(taken)
      return outcome
    }
    const spendReply = reply[2]
    if (credits === null || spendReply === undefined || spendReply === null) return outcome
    const spend: CreditSpend = {
      spent: spendReply[0] === 1,
      remaining: Number(spendReply[1]),
      nextRefillAt: spendReply[2] === '-1' ? null : Number(spendReply[2]),
    }
    outcome.credits = spend
    // Keep this process's view of the balance current for `keys.get` / `owners.get`.
    this.spent(request, spend.remaining, Number(spendReply[3]))
    return outcome
  }

  /** Local-first points taken for a request that did not pass go back. */
  private refund(taken: string[] | null): void {
    if (taken !== null) for (const key of taken) this.localFirst.refund(key)
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
    taken: string[] | null,
  ): Promise<ChargeResult> {
    const limits = strict.map((index) => request.limits[index] as LimitRequest)
    const insured = await this.insurance.consume(limits, request.chainId, request.ownerId)
    strict.forEach((index, position) => {
      states[index] = insured.states[position] as RateLimitState
    })
    if (insured.limited) this.refund(taken)
    return outcomeOf(states)
  }
}
