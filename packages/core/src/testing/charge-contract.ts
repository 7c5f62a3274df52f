/**
 * The part of the `KeyStore` contract about what a request spends: `charge` (rate limits of the
 * key and of its owner, then credits from the key's pool or the owner's, as one atomic step) and
 * the owner records that carry the owner's limits and pool. Registered by `describeStoreContract`.
 */
import { expect, it } from 'vitest'
import type { ChargeRequest, KeyStore, LimitRequest } from '../store/interface.ts'
import type { ResolvedPolicy, StoredCredits, StoredKey, StoredOwner } from '../types.ts'
import { makeRecord } from './store-contract.ts'

let unique = 0

function policy(points: number, name = `p${++unique}x${Date.now().toString(36)}`): ResolvedPolicy {
  return { name, points, duration: 60, blockDuration: 0, syncMs: null }
}

function credits(remaining: number, refill: StoredCredits['refill'] = null, refilledAt = 0): StoredCredits {
  return { remaining, refill, refilledAt }
}

function makeOwner(overrides: Partial<StoredOwner> = {}): StoredOwner {
  return {
    id: `owner-${Date.now().toString(36)}-${++unique}`,
    rateLimit: null,
    credits: null,
    meta: { plan: 'team' },
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  }
}

function request(record: StoredKey, overrides: Partial<ChargeRequest> = {}): ChargeRequest {
  return {
    keyId: record.id,
    chainId: record.chainId,
    ownerId: record.ownerId,
    limits: [],
    credits: null,
    now: 1,
    ...overrides,
  }
}

export function describeCharge(store: () => KeyStore): void {
  const spend = async (record: StoredKey, cost: number, now: number) =>
    (await store().charge(request(record, { credits: { from: 'key', cost }, now }))).credits

  it('spends credits only while enough remain and never goes below zero', async () => {
    const record = makeRecord({ credits: credits(5, null, 1_000) })
    await store().create(record)
    expect(await spend(record, 2, 2_000)).toEqual({ spent: true, remaining: 3, nextRefillAt: null })
    expect(await spend(record, 4, 2_000)).toEqual({ spent: false, remaining: 3, nextRefillAt: null })
    expect(await spend(record, 3, 2_000)).toEqual({ spent: true, remaining: 0, nextRefillAt: null })
    expect(await spend(record, 1, 2_000)).toEqual({ spent: false, remaining: 0, nextRefillAt: null })
    expect((await store().get(record.id))?.credits?.remaining).toBe(0)
  })

  it('refills credits up to the amount once an interval has passed, then spends', async () => {
    const record = makeRecord({ credits: credits(1, { amount: 10, interval: 60_000 }, 0) })
    await store().create(record)
    expect(await spend(record, 1, 30_000)).toEqual({ spent: true, remaining: 0, nextRefillAt: 60_000 })
    expect(await spend(record, 1, 59_999)).toEqual({ spent: false, remaining: 0, nextRefillAt: 60_000 })
    // Two and a half intervals later: one refill to 10 (not 20), the next one due at 180 000.
    expect(await spend(record, 4, 150_000)).toEqual({ spent: true, remaining: 6, nextRefillAt: 180_000 })
  })

  it('spends exactly the credits there are under concurrency', async () => {
    const record = makeRecord({ credits: credits(50) })
    await store().create(record)
    const results = await Promise.all(Array.from({ length: 200 }, () => spend(record, 1, 1)))
    expect(results.filter((result) => result?.spent).length).toBe(50)
    expect((await store().get(record.id))?.credits?.remaining).toBe(0)
  })

  it('answers null credits for a pool that does not exist', async () => {
    const record = makeRecord()
    await store().create(record)
    expect(await spend(record, 1, 1)).toBeNull()
    const owner = makeOwner()
    expect(
      (await store().charge(request(record, { ownerId: owner.id, credits: { from: 'owner', cost: 1 } })))
        .credits,
    ).toBeNull()
  })

  it('replaces the credits when an update sets them', async () => {
    const record = makeRecord({ credits: credits(1) })
    await store().create(record)
    await spend(record, 1, 1)
    await store().update(record.id, { updatedAt: 2, credits: credits(9, null, 2) })
    expect(await spend(record, 4, 3)).toEqual({ spent: true, remaining: 5, nextRefillAt: null })
  })

  it("takes a point per request from the key's budget, one budget per chain id", async () => {
    const limit: LimitRequest = { policy: policy(2), scope: 'key' }
    const a = makeRecord()
    const b = makeRecord()
    const take = (record: StoredKey) => store().charge(request(record, { limits: [limit] }))
    const first = await take(a)
    expect(first.limited).toBe(false)
    expect(first.states).toMatchObject([{ policy: limit.policy.name, limit: 2, remaining: 1, window: 60 }])
    expect((await take(a)).limited).toBe(false)
    const third = await take(a)
    expect(third.limited).toBe(true)
    expect(third.states[0]?.remaining).toBe(0)
    expect(third.retryAfterMs).toBeGreaterThan(0)
    expect(third.retryAfterMs).toBeLessThanOrEqual(60_000)
    expect(third.states[0]?.retryAfterMs).toBe(third.retryAfterMs)
    // Another chain has its own budget; a successor (same chain id) shares it.
    expect((await take(b)).limited).toBe(false)
    expect((await take({ ...makeRecord({ ownerId: a.ownerId }), chainId: a.chainId })).limited).toBe(true)
  })

  it('answers at once (chargeNow) on the same budgets and pools as charge, or not at all', async () => {
    const owner = makeOwner()
    const record = makeRecord({ ownerId: owner.id, credits: credits(3) })
    await store().create(record)
    const keyLimit: LimitRequest = { policy: policy(4), scope: 'key' }
    const ownerLimit: LimitRequest = { policy: policy(3), scope: 'owner' }
    const limited: boolean[] = []
    const spent: (boolean | undefined)[] = []
    // Alternating: whatever chargeNow answers counts for charge, and what it leaves it took nothing of.
    for (let index = 0; index < 8; index++) {
      const charged = request(record, {
        limits: index < 5 ? [keyLimit, ownerLimit] : [keyLimit],
        credits: index % 4 === 0 ? { from: 'key', cost: 1 } : null,
      })
      const now = index % 2 === 0 ? store().chargeNow?.(charged) : undefined
      const outcome = now ?? (await store().charge(charged))
      limited.push(outcome.limited)
      spent.push(outcome.credits?.spent)
    }
    // The owner's 3 points end the first five at the fourth (and refunded the key's point); the
    // key's 4 points then allow one more, alone.
    expect(limited).toEqual([false, false, false, true, true, false, true, true])
    expect(spent).toEqual([true, undefined, undefined, undefined, undefined, undefined, undefined, undefined])
    expect((await store().get(record.id))?.credits?.remaining).toBe(2)
  })

  it("shares the owner's budget between the owner's keys", async () => {
    const owner = makeOwner()
    const limit: LimitRequest = { policy: policy(3), scope: 'owner' }
    const keys = [makeRecord({ ownerId: owner.id }), makeRecord({ ownerId: owner.id })]
    const outcomes = []
    for (let index = 0; index < 6; index++) {
      outcomes.push(
        (await store().charge(request(keys[index % 2] as StoredKey, { limits: [limit] }))).limited,
      )
    }
    expect(outcomes).toEqual([false, false, false, true, true, true])
  })

  it('gives the other limits their point back and spends nothing when one limit rejects', async () => {
    const owner = makeOwner()
    const record = makeRecord({ ownerId: owner.id, credits: credits(100) })
    await store().create(record)
    const keyLimit: LimitRequest = { policy: policy(2), scope: 'key' }
    const ownerLimit: LimitRequest = { policy: policy(10), scope: 'owner' }
    const charge = () =>
      store().charge(request(record, { limits: [keyLimit, ownerLimit], credits: { from: 'key', cost: 1 } }))
    for (let index = 0; index < 5; index++) await charge()
    const last = await charge()
    expect(last.limited).toBe(true)
    expect(last.credits).toBeNull()
    // Two requests passed; four were refused by the key limit and gave the owner's points back.
    expect(last.states[1]).toMatchObject({ remaining: 8 })
    expect((await store().get(record.id))?.credits?.remaining).toBe(98)
  })

  it("spends from the owner's pool, exactly, under concurrency across the owner's keys", async () => {
    const owner = makeOwner({ credits: credits(50) })
    await store().putOwner(owner)
    const keys = [makeRecord({ ownerId: owner.id }), makeRecord({ ownerId: owner.id })]
    for (const key of keys) await store().create(key)
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        store().charge(request(keys[index % 2] as StoredKey, { credits: { from: 'owner', cost: 1 } })),
      ),
    )
    expect(results.filter((result) => result.credits?.spent).length).toBe(50)
    expect((await store().getOwner(owner.id))?.credits?.remaining).toBe(0)
  })

  it('keeps owners: put replaces (resetting the pool), update changes fields, delete removes the pool', async () => {
    const owner = makeOwner({ rateLimit: [policy(5, 'owner')], credits: credits(10) })
    expect(await store().getOwner(owner.id)).toBeNull()
    await store().putOwner(owner)
    expect(await store().getOwner(owner.id)).toEqual(owner)
    const record = makeRecord({ ownerId: owner.id })
    const fromOwner = (cost: number) =>
      store()
        .charge(request(record, { credits: { from: 'owner', cost } }))
        .then((result) => result.credits)
    expect(await fromOwner(4)).toMatchObject({ spent: true, remaining: 6 })
    const updated = await store().updateOwner(owner.id, { updatedAt: 2, meta: { plan: 'pro' } })
    expect(updated).toMatchObject({
      id: owner.id,
      meta: { plan: 'pro' },
      rateLimit: owner.rateLimit,
      updatedAt: 2,
    })
    expect(await fromOwner(1)).toMatchObject({ spent: true, remaining: 5 })
    await store().putOwner({ ...owner, credits: credits(3), updatedAt: 3 })
    expect(await fromOwner(1)).toMatchObject({ spent: true, remaining: 2 })
    await store().updateOwner(owner.id, { updatedAt: 4, credits: credits(7, null, 4) })
    expect(await fromOwner(1)).toMatchObject({ spent: true, remaining: 6 })
    expect(await store().deleteOwner(owner.id)).toMatchObject({ id: owner.id })
    expect(await store().getOwner(owner.id)).toBeNull()
    expect(await fromOwner(1)).toBeNull()
    expect(await store().updateOwner(owner.id, { updatedAt: 5 })).toBeNull()
    expect(await store().deleteOwner(owner.id)).toBeNull()
  })
}
