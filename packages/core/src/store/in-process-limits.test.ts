import { RateLimiterMemory } from 'rate-limiter-flexible'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ResolvedPolicy } from '../types.ts'
import { InProcessLimits } from './in-process-limits.ts'
import type { LimitRequest } from './interface.ts'

const policy = (points: number): ResolvedPolicy => ({
  name: 'default',
  points,
  duration: 60,
  blockDuration: 0,
  syncMs: null,
})

describe('InProcessLimits', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('counts a budget under the chain’s or the owner’s own id string, not a key built per request', async () => {
    const consume = vi.spyOn(RateLimiterMemory.prototype, 'consume')
    const limits = new InProcessLimits()
    const limit = policy(10)
    await limits.consume([{ policy: limit, scope: 'key' }], 'chain_1', 'org_1')
    await limits.consume(
      [
        { policy: limit, scope: 'key' },
        { policy: limit, scope: 'owner' },
      ],
      'chain_1',
      'org_1',
    )
    expect(consume.mock.calls.map(([key]) => key)).toEqual(['chain_1', 'chain_1', 'org_1'])
  })

  it('keeps a key budget and an owner budget of one policy apart, even under the same id', async () => {
    const limits = new InProcessLimits()
    const shared = policy(2)
    const key: LimitRequest = { policy: shared, scope: 'key' }
    const owner: LimitRequest = { policy: shared, scope: 'owner' }
    // A chain and an owner both called `same`: two requests on each budget fit its 2 points.
    for (let i = 0; i < 2; i++) {
      expect((await limits.consume([key], 'same', 'other')).limited).toBe(false)
      expect((await limits.consume([owner], 'other', 'same')).limited).toBe(false)
    }
    const third = await limits.consume([key], 'same', 'other')
    expect(third.limited).toBe(true)
    expect(third.states[0]?.remaining).toBe(0)
  })

  it('refunds the limit that passed when another rejects, on its own budget only', async () => {
    const limits = new InProcessLimits()
    const keyLimit: LimitRequest = { policy: policy(5), scope: 'key' }
    const ownerLimit: LimitRequest = { policy: policy(1), scope: 'owner' }
    expect((await limits.consume([keyLimit, ownerLimit], 'chain', 'org')).limited).toBe(false)
    const rejected = await limits.consume([keyLimit, ownerLimit], 'chain', 'org')
    expect(rejected.limited).toBe(true)
    expect(rejected.states.map((state) => state.remaining)).toEqual([4, 0])
    // The key's point came back: 4 more requests on the key alone still fit.
    for (let i = 0; i < 4; i++) expect((await limits.consume([keyLimit], 'chain', 'org')).limited).toBe(false)
    expect((await limits.consume([keyLimit], 'chain', 'org')).limited).toBe(true)
  })
})
