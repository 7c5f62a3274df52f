/**
 * Credit pools on Redis: one hash per pool (`{ r: remaining, t: refilledAt, a: refill amount,
 * i: refill interval }`) — a key's (shared by its rotation chain) or an owner's. Pools are spent
 * inside the charge script (`scripts.ts`), by a Lua twin of core's `spendFrom` kept in step by a
 * property test (docs/architecture.md, "Credits: one rule, two languages"); this module writes,
 * reads and removes them.
 */
import type { StoredCredits } from '@keyward/core/store'
import type { CommandGuard, RedisClient } from './command-guard.ts'

/** The pool's live state, as read from Redis. */
export interface PoolState {
  remaining: number
  refilledAt: number
}

interface PoolScripts {
  keywardWritePool(...args: string[]): Promise<number | null>
}

export class CreditPools {
  constructor(
    private readonly client: RedisClient,
    private readonly scripts: PoolScripts,
    private readonly guard: CommandGuard,
  ) {}

  /** Sets a pool's credits; with `onlyIfAbsent`, leaves an existing pool alone. */
  async write(pool: string, credits: StoredCredits, onlyIfAbsent: boolean): Promise<void> {
    const refill = credits.refill
    await this.guard.run('write credits', () =>
      this.scripts.keywardWritePool(
        pool,
        onlyIfAbsent ? '1' : '0',
        String(credits.remaining),
        String(credits.refilledAt),
        String(refill === null ? 0 : refill.amount),
        String(refill === null ? 0 : refill.interval),
      ),
    )
  }

  async delete(pool: string): Promise<void> {
    await this.guard.run('delete credits', () => this.client.del(pool))
  }

  /** The pool's live state, or `null` when it has none. */
  async read(pool: string): Promise<PoolState | null> {
    const [remaining, refilledAt] = await this.guard.run('get credits', () =>
      this.client.hmget(pool, 'r', 't'),
    )
    if (remaining == null || refilledAt == null) return null
    return { remaining: Number(remaining), refilledAt: Number(refilledAt) }
  }
}
