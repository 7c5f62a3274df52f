/**
 * Finding 8 of the adversarial review: a Redis error during `keys.create` came out as a
 * `StoreError` whose `cause` was ioredis's `ReplyError`, and that error carries `command.args` —
 * the record JSON with the key's hash and its meta. Whatever logged the error (inspected or
 * serialised) wrote them to the logs. The cause must keep only `name`, `message` and `code`.
 */
import { inspect } from 'node:util'
import { createKeyward, StoreError } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from '../support/ioredis.ts'
import { singleNodeClient, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

const META_MARKER = 'meta-marker-4f1c9a'

let server: RedisServer
let client: Redis

beforeAll(async () => {
  server = await startRedisServer()
  client = singleNodeClient(server)
  await client.connect()
})

afterAll(async () => {
  client?.disconnect()
  await server?.dispose()
})

/** Every way a logger might write the error out. */
function renderings(error: unknown): string[] {
  const cause = (error as { cause?: unknown }).cause
  return [
    inspect(error, { depth: Number.POSITIVE_INFINITY }),
    inspect(cause, { depth: Number.POSITIVE_INFINITY }),
    JSON.stringify(error),
    JSON.stringify(cause) ?? '',
    String(error),
    String((error as Error).stack),
  ]
}

describe('a StoreError from a failed Redis write (RedisStore)', () => {
  it('carries neither the record hash nor its meta in the error or its cause', async () => {
    const store = new RedisStore({ client, keyPrefix: 'leak:' })
    await until(() => subscribed(store), 'the store to subscribe', 10_000)
    const keyward = createKeyward({ prefix: 'sec', secret: TEST_SECRET, store })
    // The create script INCRs the insertion sequence: a non-integer there makes it fail in Redis.
    await client.set('leak:{keys}:seq', 'not-an-integer')

    const error = await keyward.keys.create({ ownerId: 'org_leak', meta: { note: META_MARKER } }).then(
      () => null,
      (reason: unknown) => reason,
    )

    expect(error).toBeInstanceOf(StoreError)
    const cause = (error as StoreError).cause as { name?: unknown; message?: unknown; code?: unknown }
    expect(cause).toBeDefined()
    // What is worth keeping survives: the kind of failure and Redis's own message.
    expect(cause.name).toBe('ReplyError')
    expect(String(cause.message)).toMatch(/not an integer/)
    expect(Object.keys(cause).filter((name) => !['name', 'message', 'code'].includes(name))).toEqual([])
    for (const text of renderings(error)) {
      expect(text).not.toContain(META_MARKER)
      expect(text).not.toContain('"hash"')
      expect(text).not.toContain('pepperVersion')
      expect(text).not.toContain('org_leak')
    }
    // And the failed create left nothing behind: no half-written record.
    expect(await client.keys('leak:{keys}:rec:*')).toEqual([])
    await keyward.close()
  })
})
