import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../test/support/core-fixtures.ts'
import { InvalidArgumentError, OwnerNotFoundError } from './errors.ts'
import type { OwnerLifecycleEvent } from './events.ts'
import type { VerifyResult } from './types.ts'

const codeOf = (result: VerifyResult) => (result.valid ? 'VALID' : result.code)

describe('owners', () => {
  it('sets, reads, updates and deletes an owner, with lifecycle events carrying the actor', async () => {
    const { keyward } = keywardWithClock()
    const events: OwnerLifecycleEvent[] = []
    for (const type of ['owner.set', 'owner.updated', 'owner.deleted'] as const) {
      keyward.events.on(type, (event) => events.push(event))
    }
    expect(await keyward.owners.get('org_1')).toBeNull()
    const set = await keyward.owners.set(
      'org_1',
      { rateLimit: { points: 100, duration: 60 }, credits: { remaining: 500 }, meta: { plan: 'team' } },
      { actor: 'adm_1' },
    )
    expect(set).toEqual({
      id: 'org_1',
      rateLimit: [{ name: 'owner', points: 100, duration: 60, blockDuration: 0, syncMs: null }],
      credits: { remaining: 500, refill: null, refilledAt: new Date(START) },
      meta: { plan: 'team' },
      createdAt: new Date(START),
      updatedAt: new Date(START),
    })
    expect(await keyward.owners.get('org_1')).toEqual(set)
    const updated = await keyward.owners.update(
      'org_1',
      { meta: { plan: 'pro' } },
      { actor: 'adm_2', reason: 'upgrade' },
    )
    expect(updated.meta).toEqual({ plan: 'pro' })
    expect(updated.rateLimit).toEqual(set.rateLimit)
    await keyward.owners.delete('org_1')
    expect(await keyward.owners.get('org_1')).toBeNull()
    expect(events.map((event) => [event.type, event.actor, event.reason])).toEqual([
      ['owner.set', 'adm_1', null],
      ['owner.updated', 'adm_2', 'upgrade'],
      ['owner.deleted', null, null],
    ])
  })

  it('names several owner policies owner-<points>-per-<duration>s', async () => {
    const { keyward } = keywardWithClock()
    const owner = await keyward.owners.set('org_2', {
      rateLimit: [
        { points: 10, duration: 1 },
        { points: 1000, duration: 3600 },
      ],
    })
    expect(owner.rateLimit?.map((policy) => policy.name)).toEqual(['owner-10-per-1s', 'owner-1000-per-3600s'])
  })

  it('refuses unknown fields and bad values, naming them; update/delete of no owner is OwnerNotFoundError', async () => {
    const { keyward } = keywardWithClock()
    await expect(keyward.owners.set('org', { limit: 5 } as never)).rejects.toMatchObject({ field: 'limit' })
    await expect(keyward.owners.set('org', { credits: { remaining: -1 } })).rejects.toThrow(
      InvalidArgumentError,
    )
    await expect(keyward.owners.set('', {})).rejects.toMatchObject({ field: 'ownerId' })
    await expect(keyward.owners.update('nobody', { meta: {} })).rejects.toThrow(OwnerNotFoundError)
    await expect(keyward.owners.delete('nobody')).rejects.toThrow(OwnerNotFoundError)
  })
})

describe('verify with owners', () => {
  it("passes only when the key's and the owner's limits both pass, shared by all the owner's keys", async () => {
    const { keyward } = keywardWithClock()
    await keyward.owners.set('org', { rateLimit: { points: 3, duration: 60 } })
    const a = await keyward.keys.create({ ownerId: 'org', rateLimit: { points: 10, duration: 60 } })
    const b = await keyward.keys.create({ ownerId: 'org' })
    const codes: string[] = []
    for (let index = 0; index < 6; index++)
      codes.push(codeOf(await keyward.verify(index % 2 ? b.key : a.key)))
    expect(codes).toEqual(['VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED'])
  })

  it("reports the owner's policies beside the key's, and refunds the key's point when the owner rejects", async () => {
    const { keyward } = keywardWithClock()
    await keyward.owners.set('org', { rateLimit: { points: 1, duration: 60 } })
    const { key } = await keyward.keys.create({
      ownerId: 'org',
      rateLimit: { name: 'key', points: 5, duration: 60 },
    })
    const first = await keyward.verify(key)
    expect(first.valid && first.rateLimit?.map((state) => [state.policy, state.remaining])).toEqual([
      ['key', 4],
      ['owner', 0],
    ])
    const second = await keyward.verify(key)
    expect(second).toMatchObject({ valid: false, code: 'RATE_LIMITED' })
    if (second.valid || second.code !== 'RATE_LIMITED') throw new Error('unreachable')
    // The owner's limit refused: the key's point came back.
    expect(second.rateLimit.map((state) => [state.policy, state.remaining])).toEqual([
      ['key', 4],
      ['owner', 0],
    ])
  })

  it("spends the key's own credits when it has some, else the owner's pool", async () => {
    const { keyward } = keywardWithClock()
    await keyward.owners.set('org', { credits: { remaining: 2 } })
    const own = await keyward.keys.create({ ownerId: 'org', credits: { remaining: 1 } })
    const shared = await keyward.keys.create({ ownerId: 'org' })
    expect(await keyward.verify(own.key)).toMatchObject({ valid: true, credits: { remaining: 0 } })
    expect(await keyward.verify(own.key)).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED' })
    expect(await keyward.verify(shared.key, { cost: 2 })).toMatchObject({
      valid: true,
      credits: { remaining: 0 },
    })
    expect(await keyward.verify(shared.key)).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED' })
    expect((await keyward.owners.get('org'))?.credits?.remaining).toBe(0)
  })

  it("gives a retry hint when the owner's pool refills", async () => {
    const { keyward, clock } = keywardWithClock()
    await keyward.owners.set('org', { credits: { remaining: 1, refill: { amount: 5, interval: 60_000 } } })
    const { key } = await keyward.keys.create({ ownerId: 'org' })
    expect((await keyward.verify(key)).valid).toBe(true)
    clock.advance(10_000)
    expect(await keyward.verify(key)).toMatchObject({
      valid: false,
      code: 'QUOTA_EXCEEDED',
      retryAfterMs: 50_000,
    })
    clock.advance(50_000)
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 4 } })
  })

  it('takes effect at once when an owner is set, changed or deleted', async () => {
    const { keyward } = keywardWithClock()
    const { key } = await keyward.keys.create({ ownerId: 'org' })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.owners.set('org', { credits: { remaining: 0 } })
    expect(await keyward.verify(key)).toMatchObject({ code: 'QUOTA_EXCEEDED' })
    await keyward.owners.update('org', { credits: { remaining: 1 } })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.owners.delete('org')
    expect((await keyward.verify(key)).valid).toBe(true)
  })
})
