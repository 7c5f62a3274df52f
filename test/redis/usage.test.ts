/**
 * Usage on real Redis, single node and 3-master cluster: counts from two processes add up exactly,
 * buckets carry their retention as a TTL, rankings order alike, lastUsedAt never touches the
 * record path, the stream sink is readable with a consumer group — and, on a single node, a Redis
 * killed during a flush loses nothing it should keep and reports what it had to drop.
 */
import { spawn } from 'node:child_process'
import { createKeyward, type Keyward, parseKey } from '@keyward/core'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSlot } from '../../packages/redis/src/cluster-slots.ts'
import { UsageLayout } from '../../packages/redis/src/usage-layout.ts'
import { Cluster, Redis } from '../support/ioredis.ts'
import { codeOf, type RedisTarget, startTarget, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import {
  type RedisClusterServers,
  type RedisServer,
  sleep,
  startRedisCluster,
  startRedisServer,
} from '../support/redis-server.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const root = new URL('../..', import.meta.url).pathname
const reconnectFast = (times: number) => Math.min(times * 20, 200)

/** Runs the usage fixture in a child process and returns what it printed. */
function runVerifier(target: RedisTarget, key: string, wrongKey: string, count: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/redis/fixtures/usage-loop.ts'], {
    cwd: root,
    env: {
      ...process.env,
      REDIS_NODES: target.addresses,
      REDIS_CLUSTER: target.name === 'cluster' ? '1' : '0',
      KEYWARD_SECRET: TEST_SECRET,
      KEY: key,
      WRONG_KEY: wrongKey,
      COUNT: String(count),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return new Promise<{ seen: Record<string, number>; credits: number }>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the verifier exited with ${code}`))
      else resolve(JSON.parse(output.trim()))
    })
  })
}

function withOtherSecret(key: string): string {
  const parsed = parseKey(key)!
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

const sinceAMinuteAgo = () => ({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) })

describe.each(['single node', 'cluster'] as const)('usage on Redis, %s', (targetName) => {
  let target: RedisTarget
  let client: Redis | Cluster
  let keyward: Keyward
  let store: RedisStore

  beforeAll(async () => {
    target = await startTarget(targetName)
    client = await target.connect()
    store = new RedisStore({ client, usageStream: { maxLen: 1_000_000 } })
    keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store })
  })

  afterAll(async () => {
    await keyward?.close()
    client?.disconnect()
    await target?.dispose()
  })

  it('adds up two processes × 1,000 mixed verifications exactly, per code and in credits; the stream has every one', async () => {
    const { key, record } = await keyward.keys.create({
      ownerId: 'org_two',
      scopes: ['orders:read'],
      rateLimit: { points: 1500, duration: 3600 },
      credits: { remaining: 1000 },
    })
    const wrongKey = withOtherSecret(key)
    const children = await Promise.all([
      runVerifier(target, key, wrongKey, 1000),
      runVerifier(target, key, wrongKey, 1000),
    ])
    const expected: Record<string, number> = {}
    for (const { seen } of children) {
      for (const [code, count] of Object.entries(seen)) expected[code] = (expected[code] ?? 0) + count
    }
    // Shared limits make the split between the processes vary, never the sum.
    expect(expected).toEqual({
      VALID: 1000,
      QUOTA_EXCEEDED: 500,
      RATE_LIMITED: 100,
      INSUFFICIENT_SCOPE: 200,
      NOT_FOUND: 200,
    })
    const forKey = await keyward.usage.get(
      { keyId: record.id },
      { ...sinceAMinuteAgo(), granularity: 'minute' },
    )
    expect(forKey.totals.requests).toBe(2000)
    expect(forKey.totals.counts).toMatchObject(expected)
    expect(forKey.totals.credits).toBe(children[0]!.credits + children[1]!.credits)
    expect(forKey.totals.credits).toBe(1000)
    const hours = await keyward.usage.get(record.id, {
      from: new Date(Date.now() - HOUR),
      granularity: 'hour',
    })
    expect(hours.totals).toEqual(forKey.totals)
    const forOwner = await keyward.usage.get({ ownerId: 'org_two' }, sinceAMinuteAgo())
    expect(forOwner.totals.requests).toBe(1800) // a wrong secret is not the owner's
    const everything = await keyward.usage.get({ installation: true }, sinceAMinuteAgo())
    expect(everything.totals.counts).toMatchObject({ ...expected, MISSING: 20 })

    // The stream sink, read by a consumer group as a downstream consumer would.
    const stream = `${store.prefix}usage`
    await client.xgroup('CREATE', stream, 'analytics', '0')
    const read = (await client.xreadgroup(
      'GROUP',
      'analytics',
      'worker-1',
      'COUNT',
      10_000,
      'STREAMS',
      stream,
      '>',
    )) as [string, [string, string[]][]][]
    const entries = read[0]![1]
    expect(entries).toHaveLength(2020)
    const fromStream: Record<string, number> = {}
    let streamCredits = 0
    for (const [, fields] of entries) {
      const entry = Object.fromEntries(fields.map((value, index) => [value, fields[index + 1]]))
      expect(fields.filter((_, index) => index % 2 === 0)).toEqual([
        'keyId',
        'ownerId',
        'code',
        'cost',
        'timestamp',
      ])
      fromStream[entry.code!] = (fromStream[entry.code!] ?? 0) + 1
      streamCredits += Number(entry.cost)
      if (entry.code !== 'MISSING') expect(entry.keyId).toBe(record.id)
      expect(Math.abs(Number(entry.timestamp) - Date.now())).toBeLessThan(120_000)
    }
    expect(fromStream).toEqual({ ...expected, MISSING: 20 })
    expect(streamCredits).toBe(1000)
    expect(JSON.stringify(entries)).not.toContain(key.split('_')[3]!.slice(0, 16))
    await client.xack(stream, 'analytics', ...entries.map(([id]) => id))
    expect(((await client.xpending(stream, 'analytics')) as [number])[0]).toBe(0)
  }, 60_000)

  it('keeps each bucket for its end plus the retention (TTL), under key names without a token', async () => {
    const { key, record } = await keyward.keys.create({ ownerId: 'org_ttl' })
    await keyward.verify(key)
    const at = Date.now()
    await keyward.usage.flush()
    const layout = new UsageLayout(store.prefix)
    const expectTtl = async (granularity: 'minute' | 'hour' | 'day', size: number, retention: number) => {
      const start = Math.floor(at / size) * size
      const name = layout.bucket({ kind: 'key', id: record.id }, granularity, start)
      expect(name).toContain(record.id)
      expect(name).not.toContain(key.split('_')[3]!.slice(0, 16))
      const expected = start + size + retention - at
      const actual = await client.pttl(name)
      expect(actual).toBeLessThanOrEqual(expected + 50)
      expect(actual).toBeGreaterThan(expected - 10_000)
    }
    await expectTtl('minute', 60_000, 48 * HOUR)
    await expectTtl('hour', HOUR, 90 * DAY)
    await expectTtl('day', DAY, 730 * DAY)
    if (target.name === 'cluster') {
      // The slot arithmetic used to group pipelines per node is Redis's own.
      for (const name of [
        `${store.prefix}{u:all}:m:1`,
        `${store.prefix}usage`,
        `{${store.prefix}usage}:applied`,
      ]) {
        expect(hashSlot(name)).toBe(Number(await (client as Cluster).cluster('KEYSLOT', name)))
      }
    }
  })

  it('ranks keys on Redis as in memory', async () => {
    const made: string[] = []
    for (const count of [2, 5, 3]) {
      const created = await keyward.keys.create({ ownerId: 'org_top' })
      for (let index = 0; index < count; index++) await keyward.verify(created.key)
      made.push(created.record.id)
    }
    const top = await keyward.usage.top({ ...sinceAMinuteAgo(), ownerId: 'org_top', by: 'requests' })
    expect(top.map((entry) => [entry.keyId, entry.requests])).toEqual([
      [made[1], 5],
      [made[2], 3],
      [made[0], 2],
    ])
    expect(top.every((entry) => entry.ownerId === 'org_top')).toBe(true)
    const everyone = await keyward.usage.top({ ...sinceAMinuteAgo(), limit: 1000 })
    expect(everyone.map((entry) => entry.keyId)).toEqual(expect.arrayContaining(made))
    expect(everyone.find((entry) => entry.keyId === made[1])).toMatchObject({
      ownerId: 'org_top',
      requests: 5,
    })
  })

  it('writes lastUsedAt beside the record: another process sees it, and no cache is invalidated', async () => {
    const otherClient = await target.connect()
    const otherStore = new RedisStore({ client: otherClient })
    const other = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store: otherStore })
    try {
      const { key, record } = await keyward.keys.create({ ownerId: 'org_last' })
      expect(codeOf(await other.verify(key))).toBe('VALID') // cached in the other process
      const changes: string[] = []
      otherStore.onChange((id) => changes.push(id))
      const before = Date.now()
      await keyward.verify(key)
      await keyward.usage.flush()
      const seen = (await other.keys.get(record.id))?.lastUsedAt
      expect(seen?.getTime()).toBeGreaterThanOrEqual(before - 5)
      await sleep(100)
      expect(changes).toEqual([])
    } finally {
      await other.close()
      otherClient.disconnect()
    }
  })
})

describe('usage on Redis when Redis goes away during a flush', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await startRedisServer()
  })

  afterAll(async () => {
    server?.resume()
    await server?.dispose()
  })

  it('writes the counts after recovery, stays within maxPending and reports what it dropped', async () => {
    const client = new Redis({ host: server.host, port: server.port, retryStrategy: reconnectFast })
    client.on('error', () => {})
    const store = new RedisStore({ client, failMode: 'open', commandTimeoutMs: 300 })
    const keyward = createKeyward({
      prefix: 'acme',
      secret: TEST_SECRET,
      store,
      usage: { flushIntervalMs: 3_600_000, maxPending: 5 },
    })
    const dropped: number[] = []
    keyward.events.on('usage.dropped', (event) => dropped.push(event.verifications))
    try {
      const keys: Awaited<ReturnType<Keyward['keys']['create']>>[] = []
      for (let index = 0; index < 8; index++) {
        const created = await keyward.keys.create({ ownerId: 'org_outage' })
        await until(
          async () => codeOf(await keyward.verify(created.key)) === 'VALID',
          'the key to verify',
          5000,
        )
        await keyward.usage.flush()
        keys.push(created)
      }
      const requests = async (index: number) =>
        (await keyward.usage.get(keys[index]!.record.id, sinceAMinuteAgo())).totals.requests
      const written = await Promise.all(keys.map((_, index) => requests(index)))
      await server.cli('save') // the records survive the crash; counts written so far too

      // 1. Killed while a flush is in flight: nothing is lost, nothing counted twice.
      for (let index = 0; index < 20; index++)
        expect(codeOf(await keyward.verify(keys[0]!.key))).toBe('VALID')
      server.pause()
      const flushing = keyward.usage.flush()
      await sleep(50)
      await server.kill()
      server.resume()
      await expect(flushing).rejects.toThrow(/Redis/)
      for (let index = 0; index < 5; index++) expect(codeOf(await keyward.verify(keys[1]!.key))).toBe('VALID')
      expect(keyward.usage.stats()).toMatchObject({ pending: 2, droppedVerifications: 0 })
      await server.start()
      await until(
        () =>
          keyward.usage.flush().then(
            () => true,
            () => false,
          ),
        'a flush after the restart',
        10_000,
      )
      expect(await requests(0)).toBe(written[0]! + 20)
      expect(await requests(1)).toBe(written[1]! + 5)
      await server.cli('save')

      // 2. Down for longer than the buffer holds: the oldest go, the rest arrive, the drop is reported.
      await server.kill()
      for (let index = 2; index < 8; index++) {
        // The restart emptied the record cache: UNAVAILABLE now, counted against the key all the same.
        expect(['VALID', 'UNAVAILABLE']).toContain(codeOf(await keyward.verify(keys[index]!.key)))
        expect(keyward.usage.stats().pending).toBeLessThanOrEqual(5)
      }
      await expect(keyward.usage.flush()).rejects.toThrow(/Redis/)
      expect(dropped).toEqual([1])
      expect(keyward.usage.stats()).toMatchObject({ droppedVerifications: 1, pending: 5 })
      await server.start()
      await until(
        () =>
          keyward.usage.flush().then(
            () => true,
            () => false,
          ),
        'a flush after the restart',
        10_000,
      )
      const after = await Promise.all(keys.map((_, index) => requests(index)))
      expect(after.map((count, index) => count - written[index]!)).toEqual([20, 5, 0, 1, 1, 1, 1, 1])
    } finally {
      server.resume()
      if ((await server.cli('ping').catch(() => '')).includes('PONG') === false) await server.start()
      await keyward.close()
      client.disconnect()
    }
  }, 60_000)
})

describe('usage on a Redis Cluster when a node dies during a flush', () => {
  let cluster: RedisClusterServers

  beforeAll(async () => {
    cluster = await startRedisCluster(3, ['--cluster-require-full-coverage', 'no'])
  })

  afterAll(async () => {
    for (const node of cluster?.nodes ?? []) node.resume()
    await cluster?.dispose()
  })

  it('retries the batch after the node is back, and every scope counts it exactly once', async () => {
    const client = new Cluster(cluster.startupNodes, {
      clusterRetryStrategy: reconnectFast,
      lazyConnect: true,
    })
    client.on('error', () => {})
    await client.connect()
    const store = new RedisStore({ client, failMode: 'open', commandTimeoutMs: 300 })
    const keyward = createKeyward({
      prefix: 'acme',
      secret: TEST_SECRET,
      store,
      usage: { flushIntervalMs: 3_600_000 },
    })
    try {
      // The node holding the installation's series and rankings dies; key series live elsewhere too.
      const slot = hashSlot(`${store.prefix}{u:all}`)
      const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][]
      const port = ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]
      const doomed = cluster.nodes.find((node) => node.port === port)!
      const keys: Awaited<ReturnType<Keyward['keys']['create']>>[] = []
      for (let index = 0; index < 6; index++) {
        const created = await keyward.keys.create({ ownerId: `org_cluster_${index}` })
        expect(codeOf(await keyward.verify(created.key))).toBe('VALID')
        keys.push(created)
      }
      await keyward.usage.flush()
      for (const node of cluster.nodes) await node.cli('save')

      for (const { key } of keys) for (let index = 0; index < 10; index++) await keyward.verify(key)
      doomed.pause()
      const flushing = keyward.usage.flush()
      await sleep(50)
      await doomed.kill()
      doomed.resume()
      await expect(flushing).rejects.toThrow()
      await doomed.start()
      await cluster.waitUntilHealthy()
      await until(
        () =>
          keyward.usage.flush().then(
            () => true,
            () => false,
          ),
        'a flush after the restart',
        20_000,
      )

      const range = sinceAMinuteAgo()
      for (const { record } of keys) {
        expect((await keyward.usage.get(record.id, range)).totals.requests).toBe(11)
        expect((await keyward.usage.get({ ownerId: record.ownerId }, range)).totals.requests).toBe(11)
      }
      expect((await keyward.usage.get({ installation: true }, range)).totals.requests).toBe(66)
      const top = await keyward.usage.top({ ...range, limit: 10 })
      expect(top.map((entry) => entry.requests)).toEqual([11, 11, 11, 11, 11, 11])
    } finally {
      await keyward.close()
      client.disconnect()
    }
  }, 90_000)
})
