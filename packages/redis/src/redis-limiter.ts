/**
 * One rate-limit policy on Redis: rate-limiter-flexible's `RateLimiterRedis` (one atomic script
 * per consume), with an in-memory block for keys already over the limit, so they cost no Redis
 * call until their window ends. In fail-open mode a `RateLimiterMemory` with the same policy
 * (the insurance limiter) answers whenever Redis errors, is not ready, or is too slow.
 */
import type { PolicyLimiter, RateLimiterResult, ResolvedPolicy } from '@keyward/core/store'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import { type RedisClient, withTimeout } from './command-guard.ts'

export class RedisPolicyLimiter implements PolicyLimiter {
  private readonly redis: RateLimiterRedis
  private readonly insurance: RateLimiterMemory | null

  constructor(
    client: RedisClient,
    keyPrefix: string,
    policy: ResolvedPolicy,
    failOpen: boolean,
    private readonly timeoutMs: number,
  ) {
    const shape = { points: policy.points, duration: policy.duration, blockDuration: policy.blockDuration }
    this.insurance = failOpen ? new RateLimiterMemory({ ...shape, keyPrefix }) : null
    this.redis = new RateLimiterRedis({
      ...shape,
      storeClient: client,
      useRedisPackage: false,
      keyPrefix,
      rejectIfRedisNotReady: true,
      // The request after the last allowed one blocks the key in this process until the window
      // ends (or, with blockDuration, until the block ends): further requests stay local.
      inMemoryBlockOnConsumed: policy.points + 1,
      ...(policy.blockDuration > 0 ? { inMemoryBlockDuration: policy.blockDuration } : {}),
      ...(this.insurance === null ? {} : { insuranceLimiter: this.insurance }),
    })
  }

  consume(key: string, points = 1): Promise<RateLimiterResult> {
    const consumed = withTimeout(this.redis.consume(key, points), this.timeoutMs, 'rate limit')
    const insurance = this.insurance
    if (insurance === null) return consumed
    return consumed.catch((rejection: unknown) => {
      // A RateLimiterRes is a verdict (limited), not a failure: keep it.
      if (rejection !== null && typeof rejection === 'object' && 'msBeforeNext' in rejection) throw rejection
      return insurance.consume(key, points)
    })
  }

  /** Gives points back (keyward refunds the other policies when one rejects). */
  reward(key: string, points = 1): Promise<unknown> {
    const rewarded = withTimeout(this.redis.reward(key, points), this.timeoutMs, 'rate limit refund')
    const insurance = this.insurance
    return insurance === null ? rewarded : rewarded.catch(() => insurance.reward(key, points))
  }
}
