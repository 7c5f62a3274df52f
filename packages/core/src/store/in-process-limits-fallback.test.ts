import { describe, expect, it, vi } from 'vitest'
import { createKeyward } from '../index.ts'
import type { ResolvedPolicy } from '../types.ts'
import { InProcessLimits } from './in-process-limits.ts'
import type { LimitRequest } from './interface.ts'
import { MemoryStore } from './memory-store.ts'

// A rate-limiter-flexible that keeps its counters out of reach (as a later version might): its
// `RateLimiterMemory` works through its public methods only, so keyward cannot answer at once.
vi.mock('rate-limiter-flexible', async (importOriginal) => {
  const original = await importOriginal<typeof import('rate-limiter-flexible')>()
  class SealedRateLimiterMemory {
    readonly #inner: InstanceType<typeof original.RateLimiterMemory>
    constructor(options: ConstructorParameters<typeof original.RateLimiterMemory>[0]) {
      this.#inner = new original.RateLimiterMemory(options)
    }
    consume(key: string, points?: number) {
      return this.#inner.consume(key, points)
    }
    reward(key: string, points?: number) {
      return this.#inner.reward(key, points)
    }
  }
  return { ...original, RateLimiterMemory: SealedRateLimiterMemory }
})

const limit = (points: number): ResolvedPolicy => ({
  name: 'default',
  points,
  duration: 60,
  blockDuration: 0,
  syncMs: null,
})

describe('InProcessLimits on a rate-limiter-flexible whose counters it cannot reach', () => {
  it('does not answer at once, and counts, rejects and refunds through the limiter’s promises', async () => {
    const limits = new InProcessLimits()
    const keyLimit: LimitRequest = { policy: limit(5), scope: 'key' }
    const ownerLimit: LimitRequest = { policy: limit(1), scope: 'owner' }
    expect(limits.consumeNow([keyLimit], 'chain', 'org')).toBeUndefined()
    expect((await limits.consume([keyLimit, ownerLimit], 'chain', 'org')).limited).toBe(false)
    const rejected = await limits.consume([keyLimit, ownerLimit], 'chain', 'org')
    expect(rejected).toMatchObject({ limited: true })
    expect(rejected.states.map((state) => state.remaining)).toEqual([4, 0])
    // The key's point came back: 4 more requests fit the key's 5 (1 of them spent).
    for (let i = 0; i < 4; i++) expect((await limits.consume([keyLimit], 'chain', 'org')).limited).toBe(false)
    expect((await limits.consume([keyLimit], 'chain', 'org')).limited).toBe(true)
  })

  it('leaves MemoryStore’s charges to its promise path, with the same outcomes', async () => {
    const store = new MemoryStore()
    const keyward = createKeyward({ prefix: 'acme', store, rateLimit: { points: 2, duration: 60 } })
    const { key, record } = await keyward.keys.create({ ownerId: 'org', credits: { remaining: 5 } })
    const request = {
      keyId: record.id,
      chainId: record.id,
      ownerId: 'org',
      limits: [{ policy: limit(2), scope: 'key' as const }],
      credits: null,
      now: Date.now(),
    }
    expect(store.chargeNow(request)).toBeUndefined()
    const codes = []
    for (let i = 0; i < 3; i++) {
      const result = await keyward.verify(key)
      codes.push(result.valid ? 'VALID' : result.code)
    }
    expect(codes).toEqual(['VALID', 'VALID', 'RATE_LIMITED'])
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(3)
    await keyward.close()
  })
})
