/**
 * The credit spend script is a Lua copy of core's `spendFrom`: for random credit settings and
 * random sequences of spends over time, Redis and `spendFrom` must agree on every outcome.
 */

import { type StoredCredits, type StoredKey, spendFrom } from '@keyward/core/store'
import { RedisStore } from '@keyward/redis'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RedisTarget, startTarget } from '../support/redis-fixtures.ts'

let target: RedisTarget
let store: RedisStore
let close: () => void

beforeAll(async () => {
  target = await startTarget('single node')
  const client = await target.connect()
  store = new RedisStore({ client, keyPrefix: 'lua:' })
  close = () => client.disconnect()
})

afterAll(async () => {
  await store?.close()
  close?.()
  await target?.dispose()
})

let counter = 0

const creditsArbitrary = fc.record({
  remaining: fc.integer({ min: 0, max: 1_000_000 }),
  refill: fc.option(
    fc.record({
      amount: fc.integer({ min: 1, max: 1_000_000 }),
      interval: fc.integer({ min: 1, max: 86_400_000 }),
    }),
    {
      nil: null,
    },
  ),
  refilledAt: fc.integer({ min: 0, max: 2_000_000_000_000 }),
})

const spendsArbitrary = fc.array(
  fc.record({
    cost: fc.integer({ min: 0, max: 1_000_000 }),
    advance: fc.integer({ min: 0, max: 200_000_000 }),
  }),
  { minLength: 1, maxLength: 12 },
)

it('spends exactly like spendFrom for any credits and any sequence of spends', async () => {
  await fc.assert(
    fc.asyncProperty(creditsArbitrary, spendsArbitrary, async (initial: StoredCredits, spends) => {
      const id = `lua${String(counter++).padStart(9, '0')}`
      const record: StoredKey = {
        id,
        ownerId: 'org_lua',
        name: null,
        environment: 'live',
        hash: 'h',
        pepperVersion: 1,
        scopes: [],
        createdAt: 0,
        updatedAt: 0,
        expiresAt: null,
        revokedAt: null,
        disabled: false,
        rateLimit: null,
        credits: initial,
        meta: {},
        rotatedFrom: null,
        rotatedTo: null,
        chainId: id,
        allowedNetworks: null,
      }
      await store.create(record)
      let expected = initial
      let now = initial.refilledAt
      for (const { cost, advance } of spends) {
        now += advance
        const step = spendFrom(expected, cost, now)
        expected = step.credits
        const charged = await store.charge({
          keyId: id,
          chainId: id,
          ownerId: record.ownerId,
          limits: [],
          credits: { from: 'key', cost },
          now,
        })
        expect(charged.credits).toEqual(step.spend)
      }
    }),
    { numRuns: 150 },
  )
})
