/**
 * The adapter conformance table on RedisStore — single node and cluster — so the HTTP contract is
 * proven on the store production services run, not only on the in-memory default.
 */
import { createKeyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, describe } from 'vitest'
import { runConformance } from '../conformance/suite.ts'
import type { Cluster, Redis } from '../support/ioredis.ts'
import { type RedisTarget, startTarget, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'

for (const name of ['single node', 'cluster'] as const) {
  describe(`conformance on RedisStore (${name})`, () => {
    let target: RedisTarget | undefined
    let client: Redis | Cluster | undefined

    afterAll(async () => {
      client?.disconnect()
      await target?.dispose()
    })

    runConformance(`RedisStore, ${name}`, async (options) => {
      target = await startTarget(name)
      client = await target.connect()
      const store = new RedisStore({ client, keyPrefix: 'conformance:' })
      await until(() => subscribed(store), 'the store to subscribe', 10_000)
      return createKeyward({ ...options, secret: TEST_SECRET, store })
    })
  })
}
