/**
 * Owners on Redis, across real processes, on a single node and on a 3-master cluster: an owner's
 * credits and limits are shared exactly by all its keys in every process (strict mode), and
 * local-first limits stay within their documented overshoot bound. Also: a verify of a key with a
 * key limit, an owner limit and credits makes exactly one Redis round trip, and none when its
 * limits are local-first and it has no credits.
 */
import { spawn } from 'node:child_process'
import { createKeyward, type Keyward } from '@keyward/core'
import { createAuthenticator } from '@keyward/core/adapter'
import type { ChargeRequest, ChargeResult, ResolvedPolicy } from '@keyward/core/store'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cluster, Redis } from '../support/ioredis.ts'
import {
  commandsSentDuring,
  type RedisTarget,
  startTarget,
  subscribed,
  TEST_SECRET,
  until,
} from '../support/redis-fixtures.ts'

type Counts = Record<string, number>

function worker(nodes: string, keys: string[], env: Record<string, string | number>): Promise<Counts> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/redis/fixtures/charge-worker.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        ...process.env,
        REDIS_NODES: nodes,
        KEYS: keys.join(','),
        KEYWARD_SECRET: TEST_SECRET,
        ...Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value)])),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`charge worker exited with ${code}`))
      else resolve(JSON.parse(output.trim()) as Counts)
    })
  })
}

function total(all: Counts[], code: string): number {
  return all.reduce((sum, counts) => sum + (counts[code] ?? 0), 0)
}

for (const name of ['single node', 'cluster'] as const) {
  describe(`owners across processes (${name})`, () => {
    let target: RedisTarget
    let client: Redis | Cluster
    let keyward: Keyward
    let nodes: string
    let prefixes = 0

    beforeAll(async () => {
      target = await startTarget(name)
      client = await target.connect()
      nodes = target.addresses
    })
    afterAll(async () => {
      await keyward?.close()
      client?.disconnect()
      await target?.dispose()
    })

    async function fresh(): Promise<{ keyward: Keyward; prefix: string; store: RedisStore }> {
      const prefix = `own${++prefixes}:`
      const store = new RedisStore({ client, keyPrefix: prefix, commandTimeoutMs: 10_000 })
      await until(() => subscribed(store), 'the store to subscribe', 10_000)
      keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store })
      return { keyward, prefix, store }
    }

    it('spends exactly the 50 credits of an owner across 2 keys and 2 processes (1,000 requests)', async () => {
      const { keyward, prefix } = await fresh()
      await keyward.owners.set('org_pool', { credits: { remaining: 50 } })
      const a = await keyward.keys.create({ ownerId: 'org_pool' })
      const b = await keyward.keys.create({ ownerId: 'org_pool' })
      const startAt = Date.now() + 1500
      const env = { KEY_PREFIX: prefix, REQUESTS: 500, CONCURRENCY: 100, START_AT: startAt }
      const results = await Promise.all([
        worker(nodes, [a.key, b.key], env),
        worker(nodes, [b.key, a.key], env),
      ])
      expect(total(results, 'VALID')).toBe(50)
      expect(total(results, 'QUOTA_EXCEEDED')).toBe(950)
      expect((await keyward.owners.get('org_pool'))?.credits?.remaining).toBe(0)
    }, 60_000)

    it('admits exactly 100 under a strict owner limit of 100/min over 4 processes', async () => {
      const { keyward, prefix } = await fresh()
      await keyward.owners.set('org_strict', { rateLimit: { points: 100, duration: 60 } })
      const keys = [
        (await keyward.keys.create({ ownerId: 'org_strict' })).key,
        (await keyward.keys.create({ ownerId: 'org_strict' })).key,
      ]
      const env = { KEY_PREFIX: prefix, REQUESTS: 100, CONCURRENCY: 25, START_AT: Date.now() + 1500 }
      const results = await Promise.all(Array.from({ length: 4 }, () => worker(nodes, keys, env)))
      expect(total(results, 'VALID')).toBe(100)
      expect(total(results, 'RATE_LIMITED')).toBe(300)
    }, 60_000)

    it('keeps a local-first owner limit within its bound: points + processes × rate × interval', async () => {
      const { keyward, prefix } = await fresh()
      const points = 100
      const intervalMs = 100
      await keyward.owners.set('org_local', { rateLimit: { points, duration: 60, sync: { intervalMs } } })
      const keys = [(await keyward.keys.create({ ownerId: 'org_local' })).key]
      // Each process: one request every 5 ms (200/s) for 2 s — far more than the limit allows.
      const perRequestMs = 5
      const env = {
        KEY_PREFIX: prefix,
        REQUESTS: 400,
        INTERVAL_MS: perRequestMs,
        START_AT: Date.now() + 1500,
      }
      const processes = 4
      const results = await Promise.all(Array.from({ length: processes }, () => worker(nodes, keys, env)))
      const admitted = total(results, 'VALID')
      const bound = points + processes * Math.ceil(intervalMs / perRequestMs)
      console.log(`local-first over ${processes} processes: ${admitted} admitted, bound ${bound}`)
      expect(admitted).toBeGreaterThanOrEqual(points)
      expect(admitted).toBeLessThanOrEqual(bound)
    }, 60_000)
  })
}

describe('Redis round trips per verify', () => {
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

  /** Commands the store's client sends while `run` awaits, per verify. */
  async function commandsPerVerify(keyward: Keyward, key: string, verifies: number): Promise<number> {
    const sent = await commandsSentDuring(client, async () => {
      for (let index = 0; index < verifies; index++) expect((await keyward.verify(key)).valid).toBe(true)
    })
    return sent / verifies
  }

  it('makes exactly one round trip for a key limit + an owner limit + credits, and none when local-first', async () => {
    // No background version checks during the count: only what verify itself sends is counted.
    // (and no usage flushes, which are background writes too; a generous timeout for a busy machine).
    const store = new RedisStore({ client, keyPrefix: 'rt:', gapCheckMs: 60_000, commandTimeoutMs: 10_000 })
    await until(() => subscribed(store), 'the store to subscribe', 10_000)
    const keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store, usage: false })
    await keyward.owners.set('org_rt', {
      rateLimit: { points: 10_000, duration: 60 },
      credits: { remaining: 10_000 },
    })
    const strict = await keyward.keys.create({
      ownerId: 'org_rt',
      rateLimit: { points: 10_000, duration: 60 },
    })
    await keyward.verify(strict.key) // warm the caches
    expect(await commandsPerVerify(keyward, strict.key, 200)).toBe(1)

    await keyward.owners.set('org_local', {
      rateLimit: { points: 10_000, duration: 60, sync: { intervalMs: 60_000 } },
    })
    const local = await keyward.keys.create({
      ownerId: 'org_local',
      rateLimit: { points: 10_000, duration: 60, sync: { intervalMs: 60_000 } },
    })
    await keyward.verify(local.key)
    expect(await commandsPerVerify(keyward, local.key, 200)).toBe(0)
    await keyward.close()
  })

  it('answers at once (chargeNow) what needs no round trip, and takes nothing from what does', async () => {
    const store = new RedisStore({ client, keyPrefix: 'now:', gapCheckMs: 60_000, commandTimeoutMs: 10_000 })
    await until(() => subscribed(store), 'the store to subscribe', 10_000)
    const keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store, usage: false })
    const local = await keyward.keys.create({
      ownerId: 'org_now',
      rateLimit: { points: 2, duration: 60, sync: { intervalMs: 60_000 } },
    })
    const strict = await keyward.keys.create({ ownerId: 'org_now', rateLimit: { points: 2, duration: 60 } })
    const requestOf = async (
      id: string,
      credits: ChargeRequest['credits'] = null,
    ): Promise<ChargeRequest> => {
      const policy = (await store.get(id))?.rateLimit?.[0] as ResolvedPolicy
      return {
        keyId: id,
        chainId: id,
        ownerId: 'org_now',
        limits: [{ policy, scope: 'key' }],
        credits,
        now: Date.now(),
      }
    }
    const localRequest = await requestOf(local.record.id)
    const strictRequest = await requestOf(strict.record.id)
    const creditRequest = await requestOf(local.record.id, { from: 'key', cost: 1 })
    const answers: (ChargeResult | undefined)[] = []
    const sent = await commandsSentDuring(client, async () => {
      // Local-first, no credits: counted in process. With credits: the pool is in Redis.
      for (let index = 0; index < 3; index++) answers.push(store.chargeNow(localRequest))
      answers.push(store.chargeNow(creditRequest))
      // Strict, not known to be over its limit: left to `charge`, which finds both points there.
      answers.push(store.chargeNow(strictRequest))
    })
    expect(sent).toBe(0)
    expect(answers.map((answer) => answer?.limited)).toEqual([false, false, true, undefined, undefined])
    expect(answers[1]?.states[0]?.remaining).toBe(0)
    expect((await store.charge(strictRequest)).states[0]?.remaining).toBe(1)
    expect((await store.charge(strictRequest)).limited).toBe(false)
    expect((await store.charge(strictRequest)).limited).toBe(true)
    // Now known to be over its limit until its window ends: refused in process.
    const refused = await commandsSentDuring(client, async () => {
      const answer = store.chargeNow(strictRequest)
      expect(answer).toMatchObject({ limited: true })
      expect(answer?.retryAfterMs).toBeGreaterThan(50_000)
    })
    expect(refused).toBe(0)
    // And through the HTTP layer: a cached local-first key is authenticated with no promise.
    await keyward.keys.update(local.record.id, {
      rateLimit: { points: 100, duration: 60, sync: { intervalMs: 60_000 } },
    })
    await keyward.verify(local.key)
    const authenticator = createAuthenticator(keyward)
    const request = {
      getHeader: (name: string) => (name === 'authorization' ? `Bearer ${local.key}` : undefined),
      getQuery: () => undefined,
      clientAddress: '10.0.0.1',
    }
    const outcome = authenticator.authenticateNow(request)
    expect(outcome).not.toBeInstanceOf(Promise)
    expect(outcome).toMatchObject({ ok: true })
    await keyward.close()
  })
})
