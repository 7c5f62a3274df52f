import { createKeyward, type Keyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { Cluster } from '../support/ioredis.ts'
import { codeOf, subscribed, TEST_SECRET, until as waitUntil } from '../support/redis-fixtures.ts'
import { type RedisClusterServers, sleep, startRedisCluster } from '../support/redis-server.ts'

const COMMAND_TIMEOUT_MS = 300

let cluster: RedisClusterServers
const unhandled: unknown[] = []
const trap = (reason: unknown) => unhandled.push(reason)
const opened: { keyward: Keyward; client: Cluster }[] = []

beforeAll(async () => {
  // Without full coverage, the slots of the surviving nodes keep serving while one node is down.
  cluster = await startRedisCluster(3, ['--cluster-require-full-coverage', 'no'])
  process.on('unhandledRejection', trap)
})

afterEach(async () => {
  for (const { keyward, client } of opened.splice(0)) {
    await keyward.close()
    client.disconnect()
  }
  expect(unhandled).toEqual([])
})

afterAll(async () => {
  process.off('unhandledRejection', trap)
  await cluster?.dispose()
})

async function open(): Promise<{ keyward: Keyward; store: RedisStore; client: Cluster }> {
  const client = new Cluster(cluster.startupNodes, {
    clusterRetryStrategy: (times) => Math.min(times * 20, 200),
    lazyConnect: true,
  })
  client.on('error', () => {})
  await client.connect()
  const store = new RedisStore({ client, commandTimeoutMs: COMMAND_TIMEOUT_MS, gapCheckMs: 100 })
  const keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store })
  opened.push({ keyward, client })
  await until(() => subscribed(store), 'the store to subscribe')
  return { keyward, store, client }
}

/** The port of the node carrying this store's pub/sub subscription. */
function subscriptionPort(store: RedisStore): number | undefined {
  // ioredis's Cluster keeps the connection that carries subscriptions in `subscriber.subscriber`.
  const feed = (
    store as unknown as {
      feed: { subscriber: { subscriber?: { getInstance(): { options: { port: number } } | null } } }
    }
  ).feed
  return feed.subscriber.subscriber?.getInstance()?.options.port
}

/** Waits for `condition`, 10_000 ms unless told otherwise. */
const until = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) =>
  waitUntil(condition, what, timeoutMs)

/** The port of the node serving the `{keys}` slot (records and owner indexes). */
async function recordsPort(client: Cluster): Promise<number> {
  const slot = Number(await client.cluster('KEYSLOT', '{keys}'))
  const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][]
  const range = ranges.find(([from, to]) => slot >= from && slot <= to)
  if (range === undefined) throw new Error('no node serves the {keys} slot')
  return range[2][1]
}

it('moves its subscription when that node dies, and still hears every revoke', async () => {
  const writer = await open()
  const keysPort = await recordsPort(writer.client)
  // The reader's subscription must sit on a node other than the records' one, so writes go on.
  let reader = await open()
  for (let attempt = 0; attempt < 20 && subscriptionPort(reader.store) === keysPort; attempt++)
    reader = await open()
  const doomedPort = subscriptionPort(reader.store)
  expect(doomedPort).toBeDefined()
  expect(doomedPort).not.toBe(keysPort)
  const doomed = cluster.nodes.find((node) => node.port === doomedPort)!

  // A key cached by the reader, revoked while its subscription is moving: the notice is lost,
  // so the reader must stop trusting its cache during the move and flush it afterwards.
  const { key: early, record: earlyRecord } = await writer.keyward.keys.create({ ownerId: 'org_cluster' })
  await sleep(20)
  expect(codeOf(await reader.keyward.verify(early))).toBe('VALID')
  try {
    await doomed.kill()
    const revokedEarly = Date.now()
    await writer.keyward.keys.revoke(earlyRecord.id)
    await until(
      async () => codeOf(await reader.keyward.verify(early)) === 'REVOKED',
      'the early revoke',
      1000,
    )
    expect(Date.now() - revokedEarly).toBeLessThan(1000)

    await until(
      () => subscribed(reader.store) && subscriptionPort(reader.store) !== doomedPort,
      'a new subscription',
    )
    const { key, record } = await writer.keyward.keys.create({ ownerId: 'org_cluster' })
    await until(async () => codeOf(await reader.keyward.verify(key)) === 'VALID', 'the key to verify')
    const revokedAt = Date.now()
    await writer.keyward.keys.revoke(record.id)
    await until(
      async () => codeOf(await reader.keyward.verify(key)) === 'REVOKED',
      'the revoke to arrive',
      1000,
    )
    expect(Date.now() - revokedAt).toBeLessThan(1000)
  } finally {
    if ((await doomed.cli('ping').catch(() => '')).trim() !== 'PONG') await doomed.start()
    await cluster.waitUntilHealthy()
  }
})

it('answers UNAVAILABLE fast while the whole cluster is down, and recovers when it restarts', async () => {
  const writer = await open()
  const reader = await open()
  const { key } = await writer.keyward.keys.create({ ownerId: 'org_cluster' })
  expect(codeOf(await reader.keyward.verify(key))).toBe('VALID')
  await Promise.all(cluster.nodes.map((node) => node.cli('save')))

  await Promise.all(cluster.nodes.map((node) => node.kill()))
  await until(() => !subscribed(reader.store), 'the outage to be noticed', 1000)
  const started = performance.now()
  expect(await reader.keyward.verify(key)).toMatchObject({ valid: false, code: 'UNAVAILABLE' })
  expect(performance.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 200)

  await Promise.all(cluster.nodes.map((node) => node.start()))
  await cluster.waitUntilHealthy()
  await until(async () => codeOf(await reader.keyward.verify(key)) === 'VALID', 'verification to recover')
  await until(() => subscribed(reader.store) && subscribed(writer.store), 'both stores to resubscribe')
  // The writer has not sent a command since the outage: its client may still be between retries
  // (status `close`), and the store fails fast rather than queueing. Wait for it to reconnect.
  await until(() => writer.client.status === 'ready', "the writer's client to reconnect")
  const { key: fresh, record } = await writer.keyward.keys.create({ ownerId: 'org_cluster' })
  expect(codeOf(await reader.keyward.verify(fresh))).toBe('VALID')
  const revokedAt = Date.now()
  await writer.keyward.keys.revoke(record.id)
  await until(
    async () => codeOf(await reader.keyward.verify(fresh)) === 'REVOKED',
    'the revoke to arrive',
    1000,
  )
  expect(Date.now() - revokedAt).toBeLessThan(1000)
})
