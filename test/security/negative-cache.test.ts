/**
 * Finding 5 of the adversarial review: "unknown id" entries shared RedisStore's record cache, so
 * 1,000 made-up ids pushed a warm key out of a `cacheSize: 1000` cache — its next request paid a
 * Redis read on the one `{keys}` slot a cluster has. Unknown ids live in a cache of their own,
 * bounded separately, and can never evict a real record.
 */
import { createKeyward, type Keyward } from '@keyward/core'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from '../support/ioredis.ts'
import { singleNodeClient, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

let server: RedisServer
const clients: Redis[] = []
const keywards: Keyward[] = []

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  for (const keyward of keywards) await keyward.close()
  for (const client of clients) client.disconnect()
  await server?.dispose()
})

/** Counts every command the client sends (what a request costs in Redis round trips). */
function countCommands(client: Redis): () => number {
  let sent = 0
  const send = client.sendCommand.bind(client)
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    sent++
    return send(...args)
  }) as Redis['sendCommand']
  return () => sent
}

async function keywardWithCache(cacheSize: number) {
  const client = singleNodeClient(server)
  await client.connect()
  clients.push(client)
  // A long gap check keeps the background version read out of the command count.
  const store = new RedisStore({ client, keyPrefix: `neg${keywards.length}:`, cacheSize, gapCheckMs: 60_000 })
  await until(() => subscribed(store), 'the store to subscribe', 10_000)
  const keyward = createKeyward({ prefix: 'sec', secret: TEST_SECRET, store })
  keywards.push(keyward)
  return { keyward, commands: countCommands(client) }
}

const madeUpKey = () => formatKey('sec', 'live', randomBase62(12), randomBase62(32))

describe('unknown ids and the record cache (RedisStore)', () => {
  it('1,000 made-up ids do not push a warm key out of a cacheSize: 1000 cache', async () => {
    const { keyward, commands } = await keywardWithCache(1000)
    const { key } = await keyward.keys.create({ ownerId: 'org_warm' })
    expect((await keyward.verify(key)).valid).toBe(true)
    const warm = commands()
    expect((await keyward.verify(key)).valid).toBe(true)
    expect(commands() - warm, 'a cached key costs no Redis command').toBe(0)

    for (let index = 0; index < 1000; index++) {
      const result = await keyward.verify(madeUpKey())
      expect(result.valid ? 'VALID' : result.code).toBe('NOT_FOUND')
    }

    const before = commands()
    expect((await keyward.verify(key)).valid).toBe(true)
    expect(commands() - before, 'the warm key is still served from the cache').toBe(0)
  })

  it('still remembers a made-up id as unknown: asking again costs no Redis read', async () => {
    const { keyward, commands } = await keywardWithCache(1000)
    const fake = madeUpKey()
    expect((await keyward.verify(fake)).valid).toBe(false)
    const before = commands()
    expect((await keyward.verify(fake)).valid).toBe(false)
    expect(commands() - before).toBe(0)
  })
})
