import fc from 'fast-check'
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
    // rate-limiter-flexible's own counters, which both `consume` and the immediate path use.
    const storage = (
      new RateLimiterMemory({ points: 1, duration: 1 }) as unknown as { _memoryStorage: object }
    )._memoryStorage
    const incrby = vi.spyOn(Object.getPrototypeOf(storage) as { incrby: (key: string) => unknown }, 'incrby')
    const limits = new InProcessLimits()
    const limit = policy(10)
    await limits.consume([{ policy: limit, scope: 'key' }], 'chain_1', 'org_1')
    limits.consumeNow(
      [
        { policy: limit, scope: 'key' },
        { policy: limit, scope: 'owner' },
      ],
      'chain_1',
      'org_1',
    )
    expect(incrby.mock.calls.map(([key]) => key)).toEqual(['chain_1', 'chain_1', 'org_1'])
  })

  it('answers at once exactly as RateLimiterMemory’s consume: points, blocks and windows', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 0, max: 4 }),
          fc.array(
            fc.record({ budget: fc.constantFrom('a', 'b'), waitMs: fc.integer({ min: 0, max: 2500 }) }),
            {
              maxLength: 40,
            },
          ),
          async (points, duration, blockDuration, steps) => {
            const limit: ResolvedPolicy = { name: 'p', points, duration, blockDuration, syncMs: null }
            const limits = new InProcessLimits()
            const reference = new RateLimiterMemory({ points, duration, blockDuration })
            for (const { budget, waitMs } of steps) {
              vi.advanceTimersByTime(waitMs)
              const outcome = limits.consumeNow([{ policy: limit, scope: 'key' }], budget, 'org')
              const expected = await reference.consume(budget, 1).then(
                (result) => ({
                  limited: false,
                  remaining: result.remainingPoints,
                  resetMs: result.msBeforeNext,
                }),
                (result: { msBeforeNext: number }) => ({
                  limited: true,
                  remaining: 0,
                  resetMs: result.msBeforeNext,
                }),
              )
              expect(outcome?.limited).toBe(expected.limited)
              expect(outcome?.states[0]?.remaining).toBe(expected.remaining)
              expect(outcome?.states[0]?.resetMs).toBe(Math.max(0, expected.resetMs))
              expect(outcome?.retryAfterMs).toBe(expected.limited ? Math.max(0, expected.resetMs) : 0)
            }
          },
        ),
        { numRuns: 200 },
      )
    } finally {
      vi.useRealTimers()
    }
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
