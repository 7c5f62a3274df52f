import { createHash } from 'node:crypto'
import {
  ConfigError,
  createKeyward,
  DuplicateIdError,
  type Keyward,
  type KeywardOptions,
  type VerifyResult,
} from '@keyward/core'
import type { StoredKey } from '@keyward/core/store'
import { KeyLayout, RedisStore, type RedisStoreOptions } from '@keyward/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CHARGE_SCRIPT } from '../../packages/redis/src/scripts.ts'
import type { Cluster, Redis } from '../support/ioredis.ts'
import {
  codeOf,
  commandsSentDuring,
  type RedisTarget,
  type RedisTargetName,
  socketWritesDuring,
  startTarget,
  TEST_SECRET,
} from '../support/redis-fixtures.ts'
import { sleep } from '../support/redis-server.ts'

const targets: RedisTargetName[] = ['single node', 'cluster']
/** The charge script's SHA-1, which every charge's `EVALSHA` carries. */
const CHARGE_SHA = createHash('sha1').update(CHARGE_SCRIPT).digest('hex')

/** Spends `cost` credits of key `id`'s own pool (a key never rotated: its chain is itself). */
async function spend(store: RedisStore, id: string, cost: number, now: number, ownerId = 'org_1') {
  const result = await store.charge({
    keyId: id,
    chainId: id,
    ownerId,
    limits: [],
    credits: { from: 'key', cost },
    now,
  })
  return result.credits
}

function storedKey(id: string, overrides: Partial<StoredKey> = {}): StoredKey {
  return {
    id,
    ownerId: 'org_1',
    name: null,
    environment: 'live',
    hash: `hash-of-${id}`,
    pepperVersion: 1,
    scopes: [],
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    expiresAt: null,
    revokedAt: null,
    disabled: false,
    rateLimit: null,
    credits: null,
    meta: {},
    rotatedFrom: null,
    rotatedTo: null,
    chainId: id,
    allowedNetworks: null,
    ...overrides,
  }
}

let prefixCounter = 0
const uniquePrefix = () => `t${process.pid}x${prefixCounter++}:`

describe.each(targets)('RedisStore on a %s', (targetName) => {
  let target: RedisTarget
  const clients: (Redis | Cluster)[] = []
  const stores: RedisStore[] = []
  const keywards: Keyward[] = []

  beforeAll(async () => {
    target = await startTarget(targetName)
  })

  afterEach(async () => {
    await Promise.all(keywards.splice(0).map((keyward) => keyward.close()))
    await Promise.all(stores.splice(0).map((store) => store.close()))
    for (const client of clients.splice(0)) client.disconnect()
  })

  afterAll(async () => {
    await target?.dispose()
  })

  async function newStore(options: Partial<RedisStoreOptions> = {}, client?: Redis | Cluster) {
    const connection = client ?? (await target.connect())
    if (client === undefined) clients.push(connection)
    const store = new RedisStore({ client: connection, ...options })
    stores.push(store)
    return { store, client: connection }
  }

  async function newKeyward(store: RedisStore, options: Partial<KeywardOptions> = {}) {
    const keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store, ...options })
    keywards.push(keyward)
    return keyward
  }

  /** Waits until the store has subscribed to change notifications. */
  async function ready(store: RedisStore) {
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((store as unknown as { subscribed: boolean }).subscribed) return
      await sleep(10)
    }
    throw new Error('RedisStore never subscribed')
  }

  it('is a shared store, and createKeyward without a secret is a ConfigError that says what to set', async () => {
    const { store } = await newStore()
    expect(store.shared).toBe(true)
    let error: unknown
    try {
      createKeyward({ store })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe('secret')
    expect((error as Error).message).toMatch(/KEYWARD_SECRET/)
  })

  it('rejects a bad option at construction with a ConfigError', async () => {
    const client = await target.connect()
    clients.push(client)
    expect(() => new RedisStore({ client, failMode: 'sometimes' as 'open' })).toThrow(ConfigError)
    expect(() => new RedisStore({ client, keyPrefix: 'a{b}' })).toThrow(ConfigError)
    expect(() => new RedisStore({ client, commandTimeoutMs: 0 })).toThrow(ConfigError)
    expect(() => new RedisStore({ client: {} as Redis })).toThrow(ConfigError)
  })

  it('creates, reads, updates and lists records, oldest first with cursor pages', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    const ids = Array.from({ length: 7 }, (_, index) => `id${String(index).padStart(10, '0')}`)
    // Same createdAt for all: the listing order is still the insertion order.
    for (const id of [...ids].reverse()) await store.create(storedKey(id, { ownerId: 'org {weird} ünïcode' }))
    await store.create(storedKey('otherowner01', { ownerId: 'org_2' }))
    await expect(store.create(storedKey(ids[0]!))).rejects.toThrow(DuplicateIdError)

    expect(await store.get(ids[3]!)).toMatchObject({ id: ids[3], ownerId: 'org {weird} ünïcode' })
    expect(await store.get('nosuchkey000')).toBeNull()
    expect(await store.get('{keys}:rec:x')).toBeNull()

    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await store.listByOwner(
        'org {weird} ünïcode',
        cursor === undefined ? { limit: 3 } : { limit: 3, cursor },
      )
      seen.push(...page.records.map((record) => record.id))
      cursor = page.cursor ?? undefined
    } while (cursor !== undefined)
    expect(seen).toEqual([...ids].reverse())
    expect(await store.listByOwner('org_2', { limit: 10 })).toMatchObject({
      records: [{ id: 'otherowner01' }],
      cursor: null,
    })
    expect(await store.listByOwner('org_2', { limit: 10, cursor: 'garbage' })).toEqual({
      records: [],
      cursor: null,
    })
    expect(await store.listByOwner('nobody', { limit: 10 })).toEqual({ records: [], cursor: null })

    const updated = await store.update(ids[0]!, { name: 'renamed', scopes: ['a:b'], updatedAt: 5 })
    expect(updated).toMatchObject({ id: ids[0], name: 'renamed', scopes: ['a:b'], updatedAt: 5 })
    expect(await store.get(ids[0]!)).toMatchObject({ name: 'renamed', scopes: ['a:b'] })
    expect(await store.update('nosuchkey000', { updatedAt: 1 })).toBeNull()
  })

  it('keeps empty arrays, big numbers and nested meta exactly as given', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    const record = storedKey('exactvalues1', {
      scopes: [],
      meta: { big: 2 ** 53 - 1, nested: { list: [], emoji: '🔑' }, fraction: 0.1 },
      expiresAt: 8_640_000_000_000_000,
    })
    await store.create(record)
    const other = await newStore({ keyPrefix: store.prefix })
    expect(await other.store.get('exactvalues1')).toEqual(record)
    await store.update('exactvalues1', { updatedAt: 2, meta: { list: [] } })
    expect((await other.store.get('exactvalues1'))?.meta).toEqual({ list: [] })
  })

  it('rotates atomically: successor inserted and indexed, old record changed, or nothing at all', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    await store.create(storedKey('oldkey000001'))
    const successor = storedKey('newkey000001', { rotatedFrom: 'oldkey000001' })
    const previous = await store.rotate('oldkey000001', successor, {
      rotatedTo: 'newkey000001',
      revokedAt: 10,
      updatedAt: 10,
    })
    expect(previous).toMatchObject({ id: 'oldkey000001', rotatedTo: 'newkey000001', revokedAt: 10 })
    expect(await store.get('newkey000001')).toEqual(successor)
    const listed = await store.listByOwner('org_1', { limit: 10 })
    expect(listed.records.map((record) => record.id)).toEqual(['oldkey000001', 'newkey000001'])

    // Unknown id: nothing inserted.
    expect(await store.rotate('missingkey01', storedKey('orphan000001'), { updatedAt: 1 })).toBeNull()
    expect(await store.get('orphan000001')).toBeNull()
    // Successor id taken: the old key is left untouched.
    await store.create(storedKey('another00001'))
    await expect(
      store.rotate('another00001', storedKey('newkey000001'), { rotatedTo: 'newkey000001', updatedAt: 3 }),
    ).rejects.toThrow(DuplicateIdError)
    expect(await store.get('another00001')).toMatchObject({ rotatedTo: null, updatedAt: 1_700_000_000_000 })
  })

  it('applies concurrent updates from two stores without losing either', async () => {
    const prefix = uniquePrefix()
    const a = await newStore({ keyPrefix: prefix })
    const b = await newStore({ keyPrefix: prefix })
    await a.store.create(storedKey('concurrent01'))
    await Promise.all([
      ...Array.from({ length: 10 }, (_, index) =>
        a.store.update('concurrent01', { name: `a${index}`, updatedAt: index }),
      ),
      b.store.update('concurrent01', { disabled: true, updatedAt: 99 }),
      a.store.update('concurrent01', { scopes: ['x:y'], updatedAt: 100 }),
    ])
    const final = await b.store.get('concurrent01')
    expect(final).toMatchObject({ disabled: true, scopes: ['x:y'] })
  })

  it('keeps both a rotation and a concurrent revoke from another store, losing neither', async () => {
    const prefix = uniquePrefix()
    const a = await newStore({ keyPrefix: prefix })
    const b = await newStore({ keyPrefix: prefix })
    for (let round = 0; round < 10; round++) {
      const id = `race${String(round).padStart(8, '0')}`
      await a.store.create(storedKey(id))
      const successor = storedKey(`succ${String(round).padStart(8, '0')}`, { rotatedFrom: id })
      await Promise.all([
        a.store.rotate(id, successor, { rotatedTo: successor.id, expiresAt: 99, updatedAt: 2 }),
        b.store.update(id, { revokedAt: 42, updatedAt: 3 }),
      ])
      expect(await b.store.get(id)).toMatchObject({ rotatedTo: successor.id, expiresAt: 99, revokedAt: 42 })
      expect(await b.store.get(successor.id)).toEqual(successor)
    }
  })

  it('spends credits with refill exactly like core, and never below zero', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    const start = 1_700_000_000_000
    await store.create(
      storedKey('creditkey001', {
        credits: { remaining: 3, refill: { amount: 5, interval: 1000 }, refilledAt: start },
      }),
    )
    expect(await spend(store, 'creditkey001', 2, start + 1)).toEqual({
      spent: true,
      remaining: 1,
      nextRefillAt: start + 1000,
    })
    expect(await spend(store, 'creditkey001', 2, start + 2)).toEqual({
      spent: false,
      remaining: 1,
      nextRefillAt: start + 1000,
    })
    expect(await spend(store, 'creditkey001', 0, start + 3)).toEqual({
      spent: true,
      remaining: 1,
      nextRefillAt: start + 1000,
    })
    // 2.5 intervals later: one refill to 5 (never more), aligned to whole intervals.
    expect(await spend(store, 'creditkey001', 1, start + 2500)).toEqual({
      spent: true,
      remaining: 4,
      nextRefillAt: start + 3000,
    })
    expect((await store.get('creditkey001'))?.credits).toEqual({
      remaining: 4,
      refill: { amount: 5, interval: 1000 },
      refilledAt: start + 2000,
    })
    await store.create(storedKey('nocredits001'))
    expect(await spend(store, 'nocredits001', 1, start)).toBeNull()
    expect(await spend(store, 'missingkey02', 1, start)).toBeNull()
    await store.update('nocredits001', {
      credits: { remaining: 1, refill: null, refilledAt: start },
      updatedAt: 1,
    })
    expect(await spend(store, 'nocredits001', 1, start)).toMatchObject({
      spent: true,
      remaining: 0,
      nextRefillAt: null,
    })
    expect(await spend(store, 'nocredits001', 1, start)).toMatchObject({ spent: false, remaining: 0 })
    await store.update('nocredits001', { credits: null, updatedAt: 2 })
    expect(await spend(store, 'nocredits001', 1, start)).toBeNull()
  })

  it('leaves the existing pool alone when a create turns out to be a duplicate', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    const credits = { remaining: 5, refill: null, refilledAt: 0 }
    await store.create(storedKey('duplicated01', { credits }))
    await spend(store, 'duplicated01', 4, 1)
    await expect(
      store.create(storedKey('duplicated01', { credits: { ...credits, remaining: 1000 } })),
    ).rejects.toThrow(DuplicateIdError)
    expect(await spend(store, 'duplicated01', 1, 2)).toMatchObject({ spent: true, remaining: 0 })
  })

  it('treats a key whose credit pool vanished as out of credits, never as unlimited', async () => {
    const prefix = uniquePrefix()
    const { store, client } = await newStore({ keyPrefix: prefix })
    const keyward = await newKeyward(store)
    const { key, record } = await keyward.keys.create({ ownerId: 'org_lost', credits: { remaining: 5 } })
    await client.del(new KeyLayout(prefix).keyPool('org_lost', record.id))
    expect(await spend(store, record.id, 1, 1, 'org_lost')).toBeNull()
    expect(await keyward.verify(key)).toMatchObject({
      valid: false,
      code: 'QUOTA_EXCEEDED',
      credits: { remaining: 0 },
    })
  })

  it('spends exactly 100 of 1000 concurrent verifications on a key with 100 credits', async () => {
    // Exactness, not latency, is under test: a generous timeout, so a busy machine cannot turn
    // some of the 1000 concurrent commands into UNAVAILABLE.
    const { store } = await newStore({ keyPrefix: uniquePrefix(), commandTimeoutMs: 10_000 })
    const keyward = await newKeyward(store)
    const { key, record } = await keyward.keys.create({ ownerId: 'org_credits', credits: { remaining: 100 } })
    const results = await Promise.all(Array.from({ length: 1000 }, () => keyward.verify(key)))
    const valid = results.filter((result) => result.valid).length
    const exceeded = results.filter((result) => !result.valid && result.code === 'QUOTA_EXCEEDED').length
    expect({ valid, exceeded }).toEqual({ valid: 100, exceeded: 900 })
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(0)
  })

  it('charges on after the server lost its scripts (SCRIPT FLUSH, a restart): sends the text once', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    const keyward = await newKeyward(store)
    const { key } = await keyward.keys.create({
      ownerId: 'org_flushed',
      rateLimit: { points: 10, duration: 60 },
      credits: { remaining: 5 },
    })
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 4 } })
    await target.flushScripts()
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 3 } })
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 2 } })
  })

  it('keeps one cached record per key and owner while their balances move; get shows the balance', async () => {
    // verify remembers what it builds per record (the key's view, its limits): a record copied on
    // every spend made it rebuild them on every request of a key or owner with credits.
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    await ready(store)
    const keyward = await newKeyward(store)
    await keyward.owners.set('org_live', { credits: { remaining: 20 } })
    const own = await keyward.keys.create({ ownerId: 'org_live', credits: { remaining: 10 } })
    const shared = await keyward.keys.create({
      ownerId: 'org_live',
      rateLimit: { points: 100, duration: 60 },
    })
    const first = [await keyward.verify(own.key), await keyward.verify(shared.key)]
    const peeked = [store.peek(own.record.id), store.peek(shared.record.id), store.peekOwner('org_live')]
    expect(peeked.every((record) => record != null)).toBe(true)
    const second = [await keyward.verify(own.key), await keyward.verify(shared.key)]
    expect(second).toMatchObject([
      { valid: true, credits: { remaining: 8 } },
      { valid: true, credits: { remaining: 18 } },
    ])
    expect(store.peek(own.record.id)).toBe(peeked[0])
    expect(store.peek(shared.record.id)).toBe(peeked[1])
    expect(store.peekOwner('org_live')).toBe(peeked[2])
    // The same view of each key for both requests: nothing rebuilt.
    for (const [index, result] of second.entries()) {
      const before = first[index]
      expect(result.valid && before?.valid && result.key === before.key).toBe(true)
    }
    expect((await keyward.keys.get(own.record.id))?.credits?.remaining).toBe(8)
    expect((await keyward.owners.get('org_live'))?.credits?.remaining).toBe(18)
    expect((await store.get(own.record.id))?.credits?.remaining).toBe(8)
  })

  it('spends one pool across processes and across a rotation grace period, exactly', async () => {
    const prefix = uniquePrefix()
    const keywardA = await newKeyward((await newStore({ keyPrefix: prefix })).store)
    const keywardB = await newKeyward((await newStore({ keyPrefix: prefix, creditsMaxAgeMs: 50 })).store)
    const { key: oldKey, record } = await keywardA.keys.create({
      ownerId: 'org_pool',
      credits: { remaining: 60 },
    })
    await Promise.all(Array.from({ length: 10 }, () => keywardB.verify(oldKey)))
    const rotated = await keywardA.keys.rotate(record.id, { gracePeriodMs: 60_000 })
    expect(rotated.record.credits?.remaining).toBe(50)
    const results = await Promise.all([
      ...Array.from({ length: 40 }, () => keywardA.verify(oldKey)),
      ...Array.from({ length: 40 }, () => keywardB.verify(rotated.key)),
    ])
    expect(results.filter((result) => result.valid).length).toBe(50)
    // Spends are not broadcast; a cached record re-reads its pool once older than creditsMaxAgeMs.
    await sleep(60)
    expect((await keywardB.keys.get(rotated.record.id))?.credits?.remaining).toBe(0)
  })

  it('verifies, rate-limits by key id, and rejects a revoked key in another store at once', async () => {
    const prefix = uniquePrefix()
    const a = await newStore({ keyPrefix: prefix })
    const b = await newStore({ keyPrefix: prefix })
    await Promise.all([ready(a.store), ready(b.store)])
    const keywardA = await newKeyward(a.store)
    const keywardB = await newKeyward(b.store, { rateLimit: { points: 5, duration: 60 } })
    const { key, record } = await keywardA.keys.create({ ownerId: 'org_rl', scopes: ['orders:read'] })
    const codes: string[] = []
    for (let index = 0; index < 7; index++) {
      const result = await keywardB.verify(key, { scopes: 'orders:read' })
      codes.push(result.valid ? 'VALID' : result.code)
    }
    expect(codes).toEqual(['VALID', 'VALID', 'VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'RATE_LIMITED'])

    // Its own generous limit: polling for the revoke must not run into keywardB's 5/60 s default
    // when the notice takes a few polls to arrive (a cluster under load).
    const { key: other, record: otherRecord } = await keywardA.keys.create({
      ownerId: 'org_rl',
      rateLimit: { points: 100_000, duration: 60 },
    })
    expect((await keywardB.verify(other)).valid).toBe(true)
    const changed: string[] = []
    b.store.onChange((id) => changed.push(id))
    const revokedAt = Date.now()
    await keywardA.keys.revoke(otherRecord.id)
    let code = 'VALID'
    while (Date.now() - revokedAt < 1000) {
      const result = await keywardB.verify(other)
      code = result.valid ? 'VALID' : result.code
      if (code !== 'VALID') break
      await sleep(5)
    }
    expect(code).toBe('REVOKED')
    const heardBy = Date.now() + 1000
    while (!changed.includes(otherRecord.id) && Date.now() < heardBy) await sleep(5)
    expect(changed).toContain(otherRecord.id)
    expect(changed).not.toContain(record.id)
  })

  it('costs no Redis call for a key already over its limit, until its window ends', async () => {
    // No background version checks or usage flushes in the count: only what verify sends.
    const { store, client } = await newStore({ keyPrefix: uniquePrefix(), gapCheckMs: 60_000 })
    await ready(store)
    const keyward = await newKeyward(store, { rateLimit: { points: 3, duration: 60 }, usage: false })
    const { key } = await keyward.keys.create({ ownerId: 'org_block' })
    for (let index = 0; index < 4; index++) await keyward.verify(key)
    const sent = await commandsSentDuring(client, async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => keyward.verify(key)))
      for (const result of results) {
        expect(result).toMatchObject({ valid: false, code: 'RATE_LIMITED' })
        expect('retryAfterMs' in result ? result.retryAfterMs : 0).toBeGreaterThan(50_000)
      }
    })
    expect(sent).toBe(0)
  })

  it('sends the charges of one event-loop turn in one socket write on a single node, and answers each', async () => {
    const { store, client } = await newStore({ keyPrefix: uniquePrefix() })
    await ready(store)
    const keyward = await newKeyward(store)
    const { key, record } = await keyward.keys.create({
      ownerId: 'org_batch',
      rateLimit: { points: 25, duration: 60 },
      credits: { remaining: 100 },
    })
    expect(await keyward.verify(key)).toMatchObject({ valid: true })
    // Two turns of 20 charges each: the first turn's batch is released before the second starts.
    const turns: VerifyResult[][] = []
    const writes = await socketWritesDuring(client, CHARGE_SHA, async () => {
      for (let turn = 0; turn < 2; turn++) {
        turns.push(await Promise.all(Array.from({ length: 20 }, () => keyward.verify(key))))
      }
    })
    // A cluster client's node sockets are its own: its charges are sent as they come.
    expect(writes).toBe(targetName === 'single node' ? 2 : 40)
    const codes = turns.flat().map(codeOf)
    expect(codes.filter((code) => code === 'VALID')).toHaveLength(24)
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(16)
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(75)
  })

  it('refunds the other policies of a key when one rejects, in Redis', async () => {
    const prefix = uniquePrefix()
    const { store } = await newStore({ keyPrefix: prefix })
    const other = await newStore({ keyPrefix: prefix })
    const keyward = await newKeyward(store)
    const { key } = await keyward.keys.create({
      ownerId: 'org_refund',
      rateLimit: [
        { name: 'burst', points: 3, duration: 60 },
        { name: 'hourly', points: 100, duration: 3600 },
      ],
    })
    for (let index = 0; index < 10; index++) await keyward.verify(key)
    // Another process sees the hourly budget charged for the 3 served requests only.
    const result = await (await newKeyward(other.store)).verify(key)
    expect(result).toMatchObject({ valid: false, code: 'RATE_LIMITED' })
    await expect
      .poll(async () => {
        const polled = await (await newKeyward(other.store)).verify(key)
        const states = 'rateLimit' in polled ? (polled.rateLimit ?? []) : []
        return states.find((state) => state.policy === 'hourly')?.remaining
      })
      .toBe(97)
  })

  it('connects a lazyConnect client itself, and the first requests wait for that connection', async () => {
    const client = await target.connect()
    clients.push(client)
    const lazy = client.duplicate() as Redis | Cluster
    lazy.on('error', () => {})
    clients.push(lazy)
    expect(lazy.status).toBe('wait')
    const { store } = await newStore({ keyPrefix: uniquePrefix() }, lazy)
    const keyward = await newKeyward(store)
    const { key } = await keyward.keys.create({ ownerId: 'org_lazy' })
    expect((await keyward.verify(key)).valid).toBe(true)
  })

  it('closes the connection it opened, and never the client it was given', async () => {
    const { store, client } = await newStore({ keyPrefix: uniquePrefix() })
    await ready(store)
    const subscribers = async () => {
      const lists = await Promise.all(
        (client instanceof Object && 'nodes' in client && typeof client.nodes === 'function'
          ? (client as Cluster).nodes('master')
          : [client as Redis]
        ).map((node) => node.client('LIST') as Promise<string>),
      )
      return lists
        .join('\n')
        .split('\n')
        .filter((line) => / sub=[1-9]/.test(line)).length
    }
    const before = await subscribers()
    await store.close()
    await expect.poll(subscribers, { timeout: 2000 }).toBe(before - 1)
    expect(client.status).toBe('ready')
    expect(await client.ping()).toBe('PONG')
    await expect(store.get('anything0001')).rejects.toThrow(/closed/)
  })

  it('notifies its own onChange listeners on update and rotate', async () => {
    const { store } = await newStore({ keyPrefix: uniquePrefix() })
    const seen: string[] = []
    const unsubscribe = store.onChange((id) => seen.push(id))
    await store.create(storedKey('listened0001'))
    await store.update('listened0001', { name: 'x', updatedAt: 1 })
    await store.rotate('listened0001', storedKey('listened0002'), { rotatedTo: 'listened0002', updatedAt: 2 })
    unsubscribe()
    await store.update('listened0002', { name: 'y', updatedAt: 3 })
    expect(seen).toEqual(['listened0001', 'listened0001'])
  })

  it('serves a cached record without asking Redis, and drops it when another process changes it', async () => {
    const prefix = uniquePrefix()
    const a = await newStore({ keyPrefix: prefix })
    const b = await newStore({ keyPrefix: prefix })
    await Promise.all([ready(a.store), ready(b.store)])
    await a.store.create(storedKey('cachedkey001'))
    // Let the creation notice reach b first: a read racing it is (rightly) not cached.
    await sleep(50)
    expect(await b.store.get('cachedkey001')).toMatchObject({ disabled: false })
    const redis = b.client as unknown as { get: (...args: unknown[]) => Promise<unknown> }
    const original = redis.get.bind(redis)
    let reads = 0
    redis.get = (...args: unknown[]) => {
      reads++
      return original(...args)
    }
    try {
      for (let index = 0; index < 20; index++) await b.store.get('cachedkey001')
      expect(reads).toBe(0)
      await a.store.update('cachedkey001', { disabled: true, updatedAt: 2 })
      const deadline = Date.now() + 1000
      while ((await b.store.get('cachedkey001'))?.disabled !== true && Date.now() < deadline) await sleep(5)
      expect((await b.store.get('cachedkey001'))?.disabled).toBe(true)
      expect(reads).toBeGreaterThan(0)
    } finally {
      redis.get = original
    }
  })

  it('notices a lost change notice from the version counter, and stops serving the cached record', async () => {
    const prefix = uniquePrefix()
    const a = await newStore({ keyPrefix: prefix })
    const b = await newStore({ keyPrefix: prefix, gapCheckMs: 50 })
    await Promise.all([ready(a.store), ready(b.store)])
    const keywardA = await newKeyward(a.store)
    const keywardB = await newKeyward(b.store)
    const { key, record } = await keywardA.keys.create({ ownerId: 'org_gap' })
    await sleep(100)
    expect((await keywardB.verify(key)).valid).toBe(true)
    // A write whose notice never arrives: the record changes and the version moves, silently.
    const recordKey = `${prefix}{keys}:rec:${record.id}`
    const envelope = JSON.parse((await a.client.get(recordKey))!) as { r: StoredKey }
    envelope.r.revokedAt = Date.now()
    await a.client.set(recordKey, JSON.stringify(envelope))
    await a.client.incr(`${prefix}{keys}:version`)
    const started = Date.now()
    let code = 'VALID'
    while (code === 'VALID' && Date.now() - started < 2000) {
      const result = await keywardB.verify(key)
      code = result.valid ? 'VALID' : result.code
      await sleep(5)
    }
    expect(code).toBe('REVOKED')
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('drops its cache when Redis lost its data (the version counter went backwards)', async () => {
    const prefix = uniquePrefix()
    const { store, client } = await newStore({ keyPrefix: prefix, gapCheckMs: 50 })
    await ready(store)
    const keyward = await newKeyward(store)
    const { key, record } = await keyward.keys.create({ ownerId: 'org_lost' })
    await keyward.keys.update(record.id, { name: 'bump the version' })
    await sleep(100)
    expect((await keyward.verify(key)).valid).toBe(true)
    await client.del(`${prefix}{keys}:rec:${record.id}`, `${prefix}{keys}:version`)
    await expect
      .poll(async () => {
        const result = await keyward.verify(key)
        return result.valid ? 'VALID' : result.code
      })
      .toBe('NOT_FOUND')
  })

  it('remembers an unknown id briefly, and forgets it as soon as that id is created elsewhere', async () => {
    const prefix = uniquePrefix()
    const a = await newStore({ keyPrefix: prefix, negativeCacheTtlMs: 60_000 })
    const b = await newStore({ keyPrefix: prefix })
    await Promise.all([ready(a.store), ready(b.store)])
    expect(await a.store.get('latecomer001')).toBeNull()
    await b.store.create(storedKey('latecomer001'))
    const deadline = Date.now() + 1000
    while ((await a.store.get('latecomer001')) === null && Date.now() < deadline) await sleep(5)
    expect(await a.store.get('latecomer001')).not.toBeNull()
  })

  it('never puts a plaintext key, its secret or its hash in a key name, and no key or secret in a value', async () => {
    const prefix = uniquePrefix()
    const { store } = await newStore({ keyPrefix: prefix })
    const keyward = await newKeyward(store, { rateLimit: { points: 100, duration: 60 } })
    const tokens: string[] = []
    const hashes: string[] = []
    for (let index = 0; index < 3; index++) {
      const { key, record } = await keyward.keys.create({
        ownerId: `owner-${index}@example.com`,
        credits: { remaining: 10 },
      })
      tokens.push(key)
      hashes.push((await store.get(record.id))!.hash)
      await keyward.verify(key)
      const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 1000 })
      tokens.push(rotated.key)
      await keyward.verify(rotated.key)
    }
    const keys = (await target.allKeys()).filter((key) => key.startsWith(prefix))
    expect(keys.length).toBeGreaterThan(10)
    const secrets = tokens.map((token) => token.split('_').at(-1)!.slice(0, 32))
    for (const name of keys) {
      for (const [index, token] of tokens.entries()) {
        expect(name).not.toContain(token)
        expect(name).not.toContain(secrets[index])
      }
      for (const hash of hashes) expect(name).not.toContain(hash)
      expect(name).not.toContain('@example.com')
      const value = await target.dump(name)
      for (const [index, token] of tokens.entries()) {
        expect(value).not.toContain(token)
        expect(value).not.toContain(secrets[index])
      }
    }
  })
})
