import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../../test/support/core-fixtures.ts'
import { FlakyUsageStore, LoggingStore, storedMinute } from '../../../../test/support/usage-fixtures.ts'
import { ConfigError, StoreError } from '../errors.ts'
import type { UsageDroppedEvent, UsageFlushEvent } from '../events.ts'
import { createAuthenticator } from '../http/authenticator.ts'
import { createKeyward, type KeyStore } from '../index.ts'
import { formatKey, parseKey, randomBase62 } from '../key-format.ts'
import { MemoryStore } from '../store/memory-store.ts'

const HOUR = 3_600_000

/** The same key with another secret: passes the offline checks, fails the hash. */
function withOtherSecret(key: string): string {
  const parsed = parseKey(key)
  if (parsed === null) throw new Error('not a key')
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

/** Wraps a store so every method call is recorded by name. */
function countingStore(inner: KeyStore = new MemoryStore()) {
  const calls: string[] = []
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(String(property))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { store, calls }
}

const lastHour = { from: new Date(START), to: new Date(START + HOUR), granularity: 'hour' } as const

describe('usage recording', () => {
  it('counts every outcome per key, per owner and for the installation, with the credits spent', async () => {
    const { keyward, clock } = keywardWithClock()
    const { key, record } = await keyward.keys.create({
      ownerId: 'org_a',
      scopes: ['orders:read'],
      credits: { remaining: 3 },
      rateLimit: { points: 6, duration: 60 },
    })
    for (let i = 0; i < 3; i++) expect((await keyward.verify(key)).valid).toBe(true)
    const codes = []
    for (let i = 0; i < 3; i++) codes.push((await keyward.verify(key)) as { code: string })
    expect(codes.map((result) => result.code)).toEqual(['QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED'])
    expect((await keyward.verify(key)) as { code: string }).toMatchObject({ code: 'RATE_LIMITED' })
    expect(await keyward.verify(key, { scopes: 'admin' })).toMatchObject({ code: 'INSUFFICIENT_SCOPE' })
    expect(await keyward.verify(withOtherSecret(key))).toMatchObject({ code: 'NOT_FOUND' })
    const revoked = await keyward.keys.create({ ownerId: 'org_a' })
    await keyward.keys.revoke(revoked.record.id)
    const disabled = await keyward.keys.create({ ownerId: 'org_a' })
    await keyward.keys.update(disabled.record.id, { disabled: true })
    const expiring = await keyward.keys.create({ ownerId: 'org_a', expiresAt: new Date(START + 1000) })
    const testKey = await keyward.keys.create({ ownerId: 'org_b', environment: 'test' })
    clock.advance(1000)
    for (const [token, code] of [
      [revoked.key, 'REVOKED'],
      [disabled.key, 'DISABLED'],
      [expiring.key, 'EXPIRED'],
      [testKey.key, 'WRONG_ENVIRONMENT'],
      ['', 'MISSING'],
      ['not a key', 'MALFORMED'],
    ]) {
      expect(await keyward.verify(token)).toMatchObject({ code })
    }

    const forKey = await keyward.usage.get({ keyId: record.id }, lastHour)
    expect(forKey.totals).toMatchObject({ requests: 9, credits: 3 })
    expect(forKey.totals.counts).toMatchObject({
      VALID: 3,
      QUOTA_EXCEEDED: 3,
      RATE_LIMITED: 1,
      INSUFFICIENT_SCOPE: 1,
      NOT_FOUND: 1,
      MISSING: 0,
    })
    // The id alone works too (DESIGN's `usage.get(id, …)`).
    expect((await keyward.usage.get(record.id, lastHour)).totals).toEqual(forKey.totals)

    // An owner's series counts what was attributed to it: outcomes where the secret matched.
    const forOwner = await keyward.usage.get({ ownerId: 'org_a' }, lastHour)
    expect(forOwner.totals.requests).toBe(8 + 3)
    expect(forOwner.totals.counts).toMatchObject({ NOT_FOUND: 0, REVOKED: 1, DISABLED: 1, EXPIRED: 1 })
    expect((await keyward.usage.get({ ownerId: 'org_b' }, lastHour)).totals.counts.WRONG_ENVIRONMENT).toBe(1)

    const everything = await keyward.usage.get({ installation: true }, lastHour)
    expect(everything.totals.requests).toBe(9 + 4 + 2)
    expect(everything.totals.credits).toBe(3)
    expect(everything.totals.counts).toMatchObject({ MISSING: 1, MALFORMED: 1, NOT_FOUND: 1, VALID: 3 })
  })

  it('counts requests the HTTP layer rejects before verify, once each, with the same event', async () => {
    const { keyward } = keywardWithClock()
    const authenticator = createAuthenticator(keyward, { bruteForce: false })
    const events: string[] = []
    keyward.events.on('verification', (event) => events.push(event.code))
    const view = (headers: Record<string, string>) => ({
      getHeader: (name: string) => headers[name],
      getQuery: () => undefined,
      clientAddress: '10.0.0.1',
    })
    await authenticator.authenticate(view({}))
    await authenticator.authenticate(view({ 'x-api-key': `kw_live_${'y'.repeat(600)}` }))
    await authenticator.authenticate(view({ 'x-api-key': 'not a key' })) // reaches verify: MALFORMED there
    const { totals } = await keyward.usage.get({ installation: true }, lastHour)
    expect(events).toEqual(['MISSING', 'MALFORMED', 'MALFORMED'])
    expect(totals.counts).toMatchObject({ MISSING: 1, MALFORMED: 2 })
    expect(totals.requests).toBe(3)
  })

  it('adds no store call to verify: one write per flush, however many verifications', async () => {
    const { store, calls } = countingStore()
    const keyward = createKeyward({ store, now: () => START })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    calls.length = 0
    for (let i = 0; i < 100; i++) await keyward.verify(key)
    // Only the synchronous lookups of the record and its owner: no write, no awaited store call.
    expect(new Set(calls)).toEqual(new Set(['peek', 'peekOwner']))
    await keyward.usage.flush()
    expect(calls.filter((call) => call === 'recordUsage')).toHaveLength(1)
    expect((await keyward.usage.get({ installation: true }, lastHour)).totals.requests).toBe(100)
  })

  it('flushes on its own every flushIntervalMs, and early once a batch is full', async () => {
    const timed = new MemoryStore()
    const keyward = createKeyward({ store: timed, usage: { flushIntervalMs: 20 } })
    await keyward.verify('')
    await expect.poll(() => storedMinute(timed, Date.now()), { timeout: 2000 }).toBe(1)

    const full = new MemoryStore()
    const eager = createKeyward({ store: full, usage: { flushIntervalMs: 3_600_000, batchSize: 2 } })
    for (let i = 0; i < 2; i++) {
      const { key } = await eager.keys.create({ ownerId: 'o' })
      await eager.verify(key)
    }
    await expect.poll(() => storedMinute(full, Date.now()), { timeout: 2000 }).toBe(2)
    await Promise.all([keyward.close(), eager.close()])
  })

  it('writes what is pending on close()', async () => {
    const store = new MemoryStore()
    const first = createKeyward({ store, now: () => START })
    const { key } = await first.keys.create({ ownerId: 'o' })
    for (let i = 0; i < 3; i++) await first.verify(key)
    expect(await storedMinute(store, START)).toBe(0)
    await first.close()
    expect(await storedMinute(store, START)).toBe(3)
    const second = createKeyward({ store, now: () => START })
    expect((await second.usage.get({ installation: true }, lastHour)).totals.requests).toBe(3)
  })

  it('keeps at most maxPending entries while the store fails, drops the oldest and reports them', async () => {
    const store = new FlakyUsageStore()
    const { keyward, clock } = keywardWithClock({ store, usage: { maxPending: 3 } })
    const dropped: UsageDroppedEvent[] = []
    const flushes: UsageFlushEvent[] = []
    keyward.events.on('usage.dropped', (event) => dropped.push(event))
    keyward.events.on('usage.flush', (event) => flushes.push(event))
    const keys = []
    for (let i = 0; i < 5; i++) keys.push(await keyward.keys.create({ ownerId: `org_${i}` }))

    store.failure = 'before'
    await keyward.verify(keys[0]!.key)
    await keyward.verify(keys[0]!.key)
    await expect(keyward.usage.flush()).rejects.toThrow(StoreError)
    clock.advance(60_000)
    for (const index of [1, 2, 3, 4]) {
      await keyward.verify(keys[index]!.key)
      expect(keyward.usage.stats().pending).toBeLessThanOrEqual(3)
    }
    // Oldest first: the failed batch (key 0, two verifications), then key 1's counter.
    expect(keyward.usage.stats()).toMatchObject({ pending: 3, droppedVerifications: 3, flushErrors: 1 })
    await expect(keyward.usage.flush()).rejects.toThrow(StoreError)
    expect(dropped).toEqual([{ type: 'usage.dropped', verifications: 3, logEntries: 0, timestamp: clock() }])
    expect(flushes.map((event) => event.ok)).toEqual([false, false])
    expect(flushes[1]?.error).toBeInstanceOf(StoreError)

    store.failure = 'none'
    await keyward.usage.flush()
    expect(flushes.at(-1)).toMatchObject({ ok: true, batches: 1, verifications: 3, pending: 0 })
    const counted = await Promise.all(
      keys.map(async ({ record }) => (await keyward.usage.get(record.id, lastHour)).totals.requests),
    )
    expect(counted).toEqual([0, 0, 1, 1, 1])
    expect(keyward.usage.stats()).toMatchObject({ pending: 0, droppedVerifications: 3, flushErrors: 2 })
  })

  it('counts a batch once when the store applied it but the reply was lost', async () => {
    const store = new FlakyUsageStore()
    const { keyward } = keywardWithClock({ store })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    for (let i = 0; i < 4; i++) await keyward.verify(key)
    store.failure = 'after'
    await expect(keyward.usage.flush()).rejects.toThrow(StoreError)
    await keyward.verify(key)
    store.failure = 'none'
    await keyward.usage.flush()
    // The retry is the same batch (same sequence), then the new verification in a batch of its own.
    expect(store.batches.map((batch) => batch.sequence)).toEqual([1, 1, 2])
    expect((await keyward.usage.get({ installation: true }, lastHour)).totals.requests).toBe(5)
  })

  it('reports what is lost when the store is down at close()', async () => {
    const store = new FlakyUsageStore()
    const { keyward } = keywardWithClock({ store })
    const dropped: UsageDroppedEvent[] = []
    keyward.events.on('usage.dropped', (event) => dropped.push(event))
    await keyward.verify('')
    await keyward.verify('')
    store.failure = 'before'
    await keyward.close()
    expect(dropped).toMatchObject([{ verifications: 2 }])
  })

  it('keeps one log entry per verification for a store that logs them, never the key', async () => {
    const store = new LoggingStore()
    const { keyward } = keywardWithClock({ store })
    const { key, record } = await keyward.keys.create({ ownerId: 'org_log', credits: { remaining: 10 } })
    await keyward.verify(key, { cost: 2 })
    await keyward.verify(withOtherSecret(key))
    await keyward.verify(undefined)
    await keyward.usage.flush()
    expect(store.logged).toEqual([
      { keyId: record.id, ownerId: 'org_log', code: 'VALID', cost: 2, timestamp: START },
      { keyId: record.id, ownerId: null, code: 'NOT_FOUND', cost: 0, timestamp: START },
      { keyId: null, ownerId: null, code: 'MISSING', cost: 0, timestamp: START },
    ])
    expect(JSON.stringify(store.batches)).not.toContain(key.split('_')[3]!.slice(0, 20))
  })

  it('drops log entries before counts when the bound is reached', async () => {
    const store = new LoggingStore()
    const { keyward } = keywardWithClock({ store, usage: { maxPending: 4 } })
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    store.failure = 'before'
    for (let i = 0; i < 10; i++) {
      await keyward.verify(key)
      expect(keyward.usage.stats().pending).toBeLessThanOrEqual(4)
    }
    expect(keyward.usage.stats()).toMatchObject({ droppedVerifications: 0, droppedLogEntries: 7 })
    store.failure = 'none'
    await keyward.usage.flush()
    expect(store.logged).toHaveLength(3)
    expect((await keyward.usage.get(record.id, lastHour)).totals.requests).toBe(10)
  })

  it('records nothing with usage: false, and still answers queries', async () => {
    const { store, calls } = countingStore()
    const keyward = createKeyward({ store, usage: false })
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.verify(key)
    await keyward.close()
    expect(calls).not.toContain('recordUsage')
    expect(keyward.usage.stats()).toMatchObject({ pending: 0, flushes: 0 })
    const report = await keyward.usage.get(record.id, { from: new Date(Date.now() - HOUR) })
    expect(report.totals.requests).toBe(0)
    expect((await keyward.keys.get(record.id))?.lastUsedAt).toBeNull()
  })

  it('refuses bad usage options with a ConfigError naming the option', () => {
    const cases: [unknown, string][] = [
      ['yes', 'usage'],
      [{ flushIntervalMs: 0 }, 'usage.flushIntervalMs'],
      [{ batchSize: 1.5 }, 'usage.batchSize'],
      [{ maxPending: -1 }, 'usage.maxPending'],
      [{ retentionMs: { minute: 1000 } }, 'usage.retentionMs.minute'],
      [{ retentionMs: 5 }, 'usage.retentionMs'],
      [{ lastUsedIntervalMs: 'often' }, 'usage.lastUsedIntervalMs'],
    ]
    for (const [usage, option] of cases) {
      expect(() => createKeyward({ usage: usage as never })).toThrow(
        expect.objectContaining({ name: 'ConfigError', option }),
      )
    }
    // A store from before usage existed: recording needs it, `usage: false` does not.
    const { recordUsage: _, ...legacy } = Object.getOwnPropertyDescriptors(MemoryStore.prototype)
    const oldStore = Object.create(Object.prototype, legacy) as KeyStore
    expect(() => createKeyward({ store: oldStore })).toThrow(ConfigError)
    expect(() => createKeyward({ store: oldStore, usage: false })).not.toThrow()
  })
})
