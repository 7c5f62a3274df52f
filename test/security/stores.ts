/**
 * The stores a security test runs on: `MemoryStore`, and `RedisStore` on a real redis-server
 * (started once per file). `eachStore(define)` registers the file's tests once per store; `fresh`
 * gives a keyward on a clean key prefix, so tests never see each other's keys or limits.
 */
import { createKeyward, type Keyward, type KeywardOptions, MemoryStore } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe } from 'vitest'
import type { Redis } from '../support/ioredis.ts'
import { singleNodeClient, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

export interface StoreUnderTest {
  name: 'MemoryStore' | 'RedisStore'
  /** A keyward on its own store (a fresh key prefix on Redis); closed after the file. */
  fresh(options?: KeywardOptions): Promise<Keyward>
}

export function eachStore(define: (store: StoreUnderTest) => void): void {
  describe('on MemoryStore', () => {
    const opened: Keyward[] = []
    afterAll(async () => {
      for (const keyward of opened) await keyward.close()
    })
    define({
      name: 'MemoryStore',
      async fresh(options = {}) {
        const keyward = createKeyward({ prefix: 'sec', store: new MemoryStore(), ...options })
        opened.push(keyward)
        return keyward
      },
    })
  })

  describe('on RedisStore', () => {
    let server: RedisServer
    const clients: Redis[] = []
    const opened: Keyward[] = []
    let sequence = 0
    beforeAll(async () => {
      server = await startRedisServer()
    })
    afterAll(async () => {
      for (const keyward of opened) await keyward.close()
      for (const client of clients) client.disconnect()
      await server?.dispose()
    })
    define({
      name: 'RedisStore',
      async fresh(options = {}) {
        const client = singleNodeClient(server)
        await client.connect()
        clients.push(client)
        const store = new RedisStore({ client, keyPrefix: `sec${++sequence}:` })
        await until(() => subscribed(store), 'the store to subscribe', 10_000)
        const keyward = createKeyward({ prefix: 'sec', secret: TEST_SECRET, store, ...options })
        opened.push(keyward)
        return keyward
      },
    })
  })
}
