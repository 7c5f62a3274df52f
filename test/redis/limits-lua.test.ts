/**
 * The fixed-window counting of RedisStore's charge script must answer like rate-limiter-flexible's
 * RateLimiterMemory (what MemoryStore and the fail-open insurance use): for any policy and any
 * burst of requests within a window, the same requests pass, with the same points left, and a
 * rejected request gives the other limits of the request their points back in both.
 */
import { createKeyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Redis } from '../support/ioredis.ts'
import { type RedisTarget, startTarget, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'

let target: RedisTarget
let client: Redis

beforeAll(async () => {
  target = await startTarget('single node')
  client = (await target.connect()) as Redis
})
afterAll(async () => {
  client?.disconnect()
  await target?.dispose()
})

let run = 0

it('passes and refuses the same requests as RateLimiterMemory, with the same points left', async () => {
  const store = new RedisStore({ client, keyPrefix: 'twin:' })
  await until(() => subscribed(store), 'the store to subscribe', 10_000)
  const onRedis = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store })
  const inMemory = createKeyward({ prefix: 'acme' })
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 30 }),
      fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 25 }),
      async (keyPoints, ownerPoints, blockDuration, sequence) => {
        const ownerId = `org_twin_${++run}`
        const outcomes: string[][] = [[], []]
        for (const [index, keyward] of [onRedis, inMemory].entries()) {
          await keyward.owners.set(ownerId, {
            rateLimit: { points: ownerPoints, duration: 60, blockDuration },
          })
          const keys = {
            a: (await keyward.keys.create({ ownerId, rateLimit: { points: keyPoints, duration: 60 } })).key,
            b: (await keyward.keys.create({ ownerId })).key,
          }
          for (const which of sequence) {
            const result = await keyward.verify(keys[which as 'a' | 'b'])
            const states = 'rateLimit' in result ? (result.rateLimit ?? []) : []
            outcomes[index]?.push(
              `${result.valid ? 'VALID' : result.code} ${states.map((state) => state.remaining).join('/')}`,
            )
          }
        }
        expect(outcomes[0]).toEqual(outcomes[1])
      },
    ),
    { numRuns: 60 },
  )
  await onRedis.close()
  await inMemory.close()
}, 120_000)
