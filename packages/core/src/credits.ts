/**
 * Credit arithmetic shared by the stores: a refill tops `remaining` up to `amount` once per
 * `interval` (never lowering it), then a spend takes `cost` only if that many remain.
 * `RedisStore` runs the same rules in a Lua script, kept in step by a property test (see
 * docs/architecture.md, "Credits: one rule, two languages").
 */
import type { CreditsInput, StoredCredits } from './types.ts'
import { checkInteger, checkKnownFields, checkObject, type FieldError } from './validation.ts'

const CREDITS_FIELDS: ReadonlySet<string> = new Set(['remaining', 'refill'])
const REFILL_FIELDS: ReadonlySet<string> = new Set(['amount', 'interval'])

/** The outcome of one spend. */
export interface CreditSpend {
  /** True when `cost` credits were taken. */
  spent: boolean
  /** Credits left after this call (after any refill). */
  remaining: number
  /** Epoch ms of the next refill, when the key refills. */
  nextRefillAt: number | null
}

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

/** Validates a credits input (`{ remaining, refill? }`) into its stored form, refilled as of `now`. */
export function checkCredits(
  field: string,
  value: CreditsInput,
  now: number,
  fail: FieldError,
): StoredCredits {
  checkObject(field, value, fail, '{ remaining, refill? }')
  checkKnownFields(field, value, CREDITS_FIELDS, fail)
  const remaining = checkInteger(`${field}.remaining`, value.remaining, { min: 0 }, fail)
  let refill: StoredCredits['refill'] = null
  if (value.refill !== undefined) {
    checkObject(`${field}.refill`, value.refill, fail, '{ amount, interval }')
    checkKnownFields(`${field}.refill`, value.refill, REFILL_FIELDS, fail)
    refill = {
      amount: checkInteger(`${field}.refill.amount`, value.refill.amount, { min: 1 }, fail),
      interval: checkInteger(`${field}.refill.interval`, value.refill.interval, { min: 1000 }, fail, ' (ms)'),
    }
  }
  return { remaining, refill, refilledAt: now }
}
