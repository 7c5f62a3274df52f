/**
 * Credit pools on Redis: one hash per pool (`{ r: remaining, t: refilledAt, a: refill amount,
 * i: refill interval }`), spent atomically by a Lua twin of core's `spendFrom` (kept in step by a
 * property test; docs/architecture.md, "Credits: one rule, two languages"). A rotation's successor
 * inherits its predecessor's pool, so both spend from one counter.
 */
import type { CreditSpend, StoredCredits } from '@keyward/core/store'
import type { CommandGuard, RedisClient } from './command-guard.ts'
import type { KeyLayout } from './key-layout.ts'

/** The pool's live state, as read from Redis. */
export interface PoolState {
  remaining: number
  refilledAt: number
}

interface PoolScripts {
  keywardSpend(...args: string[]): Promise<[number, string, string, string] | null>
  keywardWritePool(...args: string[]): Promise<number | null>
}

export class CreditPools {
  constructor(
    private readonly client: RedisClient,
    private readonly scripts: PoolScripts,
    private readonly guard: CommandGuard,
    private readonly layout: KeyLayout,
  ) {}

  /** Sets a pool's credits; with `onlyIfAbsent`, leaves an existing pool alone. */
  async write(poolId: string, credits: StoredCredits, onlyIfAbsent: boolean): Promise<void> {
    const refill = credits.refill
    await this.guard.run('write credits', () =>
      this.scripts.keywardWritePool(
        this.layout.credits(poolId),
        onlyIfAbsent ? '1' : '0',
        String(credits.remaining),
        String(credits.refilledAt),
        String(refill === null ? 0 : refill.amount),
        String(refill === null ? 0 : refill.interval),
      ),
    )
  }

  async delete(poolId: string): Promise<void> {
    await this.guard.run('delete credits', () => this.client.del(this.layout.credits(poolId)))
  }

  /** The pool's live state, or `null` when it has none. */
  async read(poolId: string): Promise<PoolState | null> {
    const [remaining, refilledAt] = await this.guard.run('get credits', () =>
      this.client.hmget(this.layout.credits(poolId), 'r', 't'),
    )
    if (remaining == null || refilledAt == null) return null
    return { remaining: Number(remaining), refilledAt: Number(refilledAt) }
  }

  /**
   * Refills if due, then spends `cost` if that many remain. A pool that has vanished (evicted,
   * flushed) spends nothing: credits are never treated as unlimited by accident.
   */
  async spend(
    poolId: string,
    cost: number,
    now: number,
  ): Promise<CreditSpend & { refilledAt: number | null }> {
    const reply = await this.guard.run('spend credits', () =>
      this.scripts.keywardSpend(this.layout.credits(poolId), String(cost), String(now)),
    )
    if (reply === null) return { spent: false, remaining: 0, nextRefillAt: null, refilledAt: null }
    const [spent, remaining, nextRefillAt, refilledAt] = reply
    return {
      spent: spent === 1,
      remaining: Number(remaining),
      nextRefillAt: nextRefillAt === '-1' ? null : Number(nextRefillAt),
      refilledAt: Number(refilledAt),
    }
  }
}
