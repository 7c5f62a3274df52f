/**
 * Finding 4 of the adversarial review: with `failMode: 'open'`, a process cut off from Redis kept
 * serving its cached records whatever their age — a key revoked elsewhere still verified 5 s later
 * with `cacheTtlMs: 1000`, and would have forever. Now a cached record counts only while Redis
 * confirmed it (read it, or the change feed was live and heard from) within `maxStaleMs`; past
 * that the key is `UNAVAILABLE` until Redis answers again.
 *
 * One process ("edge") reaches Redis through a TCP proxy that the test cuts or black-holes; the
 * other ("admin") reaches it directly and revokes the key meanwhile.
 */
import { createKeyward, type Keyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '../support/ioredis.ts'
import { codeOf, singleNodeClient, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import { type RedisServer, sleep, startRedisServer } from '../support/redis-server.ts'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts'

const MAX_STALE_MS = 1000

let server: RedisServer
const cleanups: (() => unknown)[] = []

beforeAll(async () => {
  server = await startRedisServer()
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await server?.dispose()
})

interface Pair {
  proxy: TcpProxy
  edge: Keyward
  edgeStore: RedisStore
  admin: Keyward
}

let prefixes = 0

async function pair(failMode: 'open' | 'closed' = 'open'): Promise<Pair> {
  const keyPrefix = `stale${++prefixes}:`
  const proxy = await startTcpProxy(server.port)
  cleanups.push(() => proxy.close())
  const edgeClient = new Redis({
    host: proxy.host,
    port: proxy.port,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 20, 200),
  })
  edgeClient.on('error', () => {})
  await edgeClient.connect()
  cleanups.push(() => edgeClient.disconnect())
  const edgeStore = new RedisStore({
    client: edgeClient,
    keyPrefix,
    failMode,
    maxStaleMs: MAX_STALE_MS,
    commandTimeoutMs: 100,
    gapCheckMs: 50,
  })
  const edge = createKeyward({ prefix: 'sec', secret: TEST_SECRET, store: edgeStore })
  cleanups.push(() => edge.close())

  const adminClient = singleNodeClient(server)
  await adminClient.connect()
  cleanups.push(() => adminClient.disconnect())
  const adminStore = new RedisStore({ client: adminClient, keyPrefix })
  const admin = createKeyward({ prefix: 'sec', secret: TEST_SECRET, store: adminStore })
  cleanups.push(() => admin.close())
  await until(() => subscribed(edgeStore) && subscribed(adminStore), 'both stores to subscribe', 10_000)
  return { proxy, edge, edgeStore, admin }
}

/** Sleeps until `ms` after `since`. */
const sleepUntil = (since: number, ms: number) => sleep(Math.max(0, since + ms - Date.now()))

describe("failMode: 'open' has a staleness bound (RedisStore)", () => {
  it('answers UNAVAILABLE once a cached key is older than maxStaleMs, when Redis is gone', async () => {
    const { proxy, edge, edgeStore, admin } = await pair()
    const { key, record } = await admin.keys.create({ ownerId: 'org_stale' })
    expect(codeOf(await edge.verify(key))).toBe('VALID')

    const cutAt = Date.now()
    proxy.cut()
    await until(() => !subscribed(edgeStore), 'the edge to notice', 5000)
    await admin.keys.revoke(record.id)
    // Open mode still serves what Redis confirmed within the bound: that is what it is for.
    expect(codeOf(await edge.verify(key))).toBe('VALID')

    await sleepUntil(cutAt, MAX_STALE_MS + 200)
    expect(codeOf(await edge.verify(key))).toBe('UNAVAILABLE')
    await sleep(300)
    expect(codeOf(await edge.verify(key))).toBe('UNAVAILABLE')

    proxy.restore()
    await until(() => subscribed(edgeStore), 'the edge to reconnect', 10_000)
    expect(codeOf(await edge.verify(key))).toBe('REVOKED')
  })

  it('does the same behind a network black hole, where the connections look alive', async () => {
    const { proxy, edge, admin } = await pair()
    const { key, record } = await admin.keys.create({ ownerId: 'org_stale' })
    expect(codeOf(await edge.verify(key))).toBe('VALID')

    const holeAt = Date.now()
    proxy.blackhole()
    await admin.keys.revoke(record.id)
    await sleepUntil(holeAt, MAX_STALE_MS + 200)
    expect(codeOf(await edge.verify(key))).toBe('UNAVAILABLE')

    proxy.restore()
    await until(async () => codeOf(await edge.verify(key)) === 'REVOKED', 'the revoke to arrive', 10_000)
  })

  it('holds in closed mode too: a black hole cannot keep a cached key in use past maxStaleMs', async () => {
    const { proxy, edge, admin } = await pair('closed')
    const { key, record } = await admin.keys.create({ ownerId: 'org_stale' })
    expect(codeOf(await edge.verify(key))).toBe('VALID')
    const holeAt = Date.now()
    proxy.blackhole()
    await admin.keys.revoke(record.id)
    await sleepUntil(holeAt, MAX_STALE_MS + 200)
    expect(codeOf(await edge.verify(key))).toBe('UNAVAILABLE')
    proxy.restore()
    await until(async () => codeOf(await edge.verify(key)) === 'REVOKED', 'the revoke to arrive', 10_000)
  })

  it('keeps serving a cached key while Redis is reachable, however old the cache entry', async () => {
    const { edge, admin } = await pair()
    const { key } = await admin.keys.create({ ownerId: 'org_stale' })
    expect(codeOf(await edge.verify(key))).toBe('VALID')
    await sleep(MAX_STALE_MS + 200)
    expect(codeOf(await edge.verify(key))).toBe('VALID')
  })
})
