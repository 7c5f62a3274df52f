/**
 * Credit arithmetic shared by the stores: a refill tops `remaining` up to `amount` once per
 * `interval` (never lowering it), then a spend takes `cost` only if that many remain.
 * `RedisStore` runs the same rules in a Lua script; keep the two in step.
 */
import type { CreditSpend } from './store/interface.ts'
import type { StoredCredits } from './types.ts'

/** The credits after any refill due at `now`. Returns the same object when none is due. */
export function refillCredits(credits: StoredCredits, now: number): StoredCredits {
  const refill = credits.refill
  if (refill === null || now < credits.refilledAt + refill.interval) return credits
  const periods = Math.floor((now - credits.refilledAt) / refill.interval)
  return {
    remaining: Math.max(credits.remaining, refill.amount),
    refill,
    refilledAt: credits.refilledAt + periods * refill.interval,
  }
}

/** Refills, then spends `cost` if enough remain. Pure: returns the new credits and the outcome. */
export function spendFrom(
  credits: StoredCredits,
  cost: number,
  now: number,
): { credits: StoredCredits; spend: CreditSpend } {
  const refilled = refillCredits(credits, now)
  const spent = refilled.remaining >= cost
  const next = spent && cost > 0 ? { ...refilled, remaining: refilled.remaining - cost } : refilled
  return {
    credits: next,
    spend: {
      spent,
      remaining: next.remaining,
      nextRefillAt: next.refill === null ? null : next.refilledAt + next.refill.interval,
    },
  }
}
