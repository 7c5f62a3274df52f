import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../test/support/core-fixtures.ts'
import { refillCredits, spendFrom } from './credits.ts'
import type { KeywardOptions } from './index.ts'
import type { StoredCredits } from './types.ts'

const MINUTE = 60_000

// Default prefix (`kw`): these tests do not care which.
const setup = (options: KeywardOptions = {}) => keywardWithClock({ prefix: 'kw', ...options })

describe('credit arithmetic', () => {
  const credits = (remaining: number, refill: StoredCredits['refill'] = null): StoredCredits => ({
    remaining,
    refill,
    refilledAt: START,
  })

  it('spends the cost when enough remain', () => {
    expect(spendFrom(credits(5), 3, START)).toEqual({
      credits: credits(2),
      spend: { spent: true, remaining: 2, nextRefillAt: null },
    })
  })

  it('spends nothing, and keeps the remainder, when the cost is larger than what remains', () => {
    const before = credits(2)
    const { credits: after, spend } = spendFrom(before, 3, START)
    expect(spend).toEqual({ spent: false, remaining: 2, nextRefillAt: null })
    expect(after).toBe(before)
  })

  it('tops up to the refill amount once an interval has passed, never lowering it', () => {
    const refill = { amount: 10, interval: MINUTE }
    expect(refillCredits(credits(3, refill), START + MINUTE - 1).remaining).toBe(3)
    expect(refillCredits(credits(3, refill), START + MINUTE)).toEqual({
      remaining: 10,
      refill,
      refilledAt: START + MINUTE,
    })
    expect(refillCredits(credits(25, refill), START + MINUTE).remaining).toBe(25)
  })

  it('keeps refills on the original schedule after several missed intervals', () => {
    const refill = { amount: 10, interval: MINUTE }
    const refilled = refillCredits(credits(0, refill), START + 3.5 * MINUTE)
    expect(refilled.refilledAt).toBe(START + 3 * MINUTE)
    expect(refilled.remaining).toBe(10)
    expect(spendFrom(credits(0, refill), 1, START + 3.5 * MINUTE).spend.nextRefillAt).toBe(START + 4 * MINUTE)
  })

  it('never goes below zero and matches a model of "top up at every interval boundary" (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('spend' as const), cost: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3 * MINUTE }) }),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.option(
          fc.record({ amount: fc.integer({ min: 1, max: 15 }), interval: fc.constantFrom(1000, MINUTE) }),
        ),
        fc.array(op, { maxLength: 60 }),
        (initial, refill, ops) => {
          let state: StoredCredits = { remaining: initial, refill, refilledAt: START }
          let now = START
          let model = initial
          let boundariesSeen = 0
          for (const step of ops) {
            if (step.kind === 'wait') {
              now += step.ms
              continue
            }
            if (refill !== null) {
              const boundaries = Math.floor((now - START) / refill.interval)
              if (boundaries > boundariesSeen) model = Math.max(model, refill.amount)
              boundariesSeen = boundaries
            }
            const { credits: next, spend } = spendFrom(state, step.cost, now)
            expect(spend.spent).toBe(model >= step.cost)
            if (spend.spent) model -= step.cost
            expect(spend.remaining).toBe(model)
            expect(next.remaining).toBeGreaterThanOrEqual(0)
            state = next
          }
        },
      ),
    )
  })
})

describe('credits through verify', () => {
  it('reports the credits remaining after each request', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 3 } })
    for (const remaining of [2, 1, 0]) {
      expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining } })
    }
    expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED' })
  })

  it('spends the per-request cost', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 10 } })
    expect(await keyward.verify(key, { cost: 4 })).toMatchObject({ credits: { remaining: 6 } })
    expect(await keyward.verify(key, { cost: 6 })).toMatchObject({ valid: true, credits: { remaining: 0 } })
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(0)
  })

  it('rejects a cost larger than what remains with QUOTA_EXCEEDED and leaves the credits unchanged', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 5 } })
    expect(await keyward.verify(key, { cost: 6 })).toMatchObject({
      valid: false,
      code: 'QUOTA_EXCEEDED',
      credits: { remaining: 5 },
    })
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(5)
    expect(await keyward.verify(key, { cost: 5 })).toMatchObject({ valid: true, credits: { remaining: 0 } })
  })

  it('refills to the amount every interval (injected clock) and says when the next refill comes', async () => {
    const { keyward, clock } = setup()
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      credits: { remaining: 2, refill: { amount: 2, interval: MINUTE } },
    })
    await keyward.verify(key)
    await keyward.verify(key)
    clock.advance(20_000)
    const exhausted = await keyward.verify(key)
    expect(exhausted).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      retryAfterMs: 40_000,
      credits: { remaining: 0 },
    })
    clock.advance(40_000)
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 1 } })
    // a long idle period refills once, to the amount — it does not accumulate
    clock.advance(10 * MINUTE)
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 1 } })
  })

  it('gives no retryAfterMs when the next refill cannot cover the cost', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      credits: { remaining: 0, refill: { amount: 5, interval: MINUTE } },
    })
    const tooDear = await keyward.verify(key, { cost: 6 })
    expect(tooDear).toMatchObject({ code: 'QUOTA_EXCEEDED', credits: { remaining: 0 } })
    expect(tooDear).not.toHaveProperty('retryAfterMs')
    expect(await keyward.verify(key, { cost: 5 })).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      retryAfterMs: MINUTE,
    })
  })

  it('never lowers credits above the refill amount', async () => {
    const { keyward, clock } = setup()
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      credits: { remaining: 100, refill: { amount: 10, interval: MINUTE } },
    })
    clock.advance(MINUTE)
    expect(await keyward.verify(key)).toMatchObject({ credits: { remaining: 99 } })
  })

  it('restarts the refill schedule when credits are replaced by update', async () => {
    const { keyward, clock } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 0 } })
    expect(await keyward.verify(key)).toMatchObject({ code: 'QUOTA_EXCEEDED' })
    clock.advance(30_000)
    const updated = await keyward.keys.update(record.id, {
      credits: { remaining: 1, refill: { amount: 5, interval: MINUTE } },
    })
    expect(updated.credits?.refilledAt).toEqual(new Date(START + 30_000))
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 0 } })
    clock.advance(MINUTE)
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 4 } })
  })

  it('never over-spends under concurrency: 1000 parallel verifies on 100 credits give exactly 100 successes', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 100 } })
    const results = await Promise.all(Array.from({ length: 1000 }, () => keyward.verify(key)))
    const codes = results.map((result) => (result.valid ? 'VALID' : result.code))
    expect(codes.filter((code) => code === 'VALID')).toHaveLength(100)
    expect(codes.filter((code) => code === 'QUOTA_EXCEEDED')).toHaveLength(900)
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(0)
    const remainders = results.flatMap((result) => (result.valid ? [result.credits?.remaining] : []))
    expect(new Set(remainders).size).toBe(100)
  })

  it('never over-spends under concurrency with mixed costs', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 100 } })
    const costs = Array.from({ length: 300 }, (_, i) => (i % 3) + 1)
    const results = await Promise.all(costs.map((cost) => keyward.verify(key, { cost })))
    const spent = results.reduce((sum, result, i) => sum + (result.valid ? (costs[i] as number) : 0), 0)
    const remaining = (await keyward.keys.get(record.id))?.credits?.remaining as number
    expect(remaining).toBeGreaterThanOrEqual(0)
    expect(spent + remaining).toBe(100)
  })

  it('treats a key without credits as unlimited', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    for (let i = 0; i < 50; i++) expect((await keyward.verify(key, { cost: 10 })).valid).toBe(true)
  })
})
