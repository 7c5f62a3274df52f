/**
 * The usage part of the `KeyStore` contract, run by `describeStoreContract`: counters add up per
 * series and bucket, a retried batch counts once, expired buckets read as empty, rankings order
 * and filter alike, and `lastUsed` keeps the latest time. Each case works on its own ids and its
 * own day, so cases never see each other's counts (the global ranking is shared).
 */
import { expect, it } from 'vitest'
import type { KeyStore } from '../store/interface.ts'
import type { UsageBatch, UsageBucketIncrement, UsageKeyAmounts } from '../store/usage-interface.ts'

const DAY_MS = 86_400_000
/** A day boundary; case `n` works on day `n` after it. */
const BASE = Date.UTC(2026, 0, 1)
const KEPT = 30 * DAY_MS

let unique = 0
/** An id unique to this run, storable as a key id; `suffix` orders ids of one case. */
function uniqueId(suffix = ''): string {
  unique += 1
  return `u${Date.now().toString(36)}${unique.toString(36)}${suffix}`
}

let sequence = 0
function batch(origin: string, parts: Partial<Omit<UsageBatch, 'origin'>>): UsageBatch {
  sequence += 1
  return {
    origin,
    sequence,
    now: BASE,
    series: [],
    rankings: [],
    lastUsed: [],
    verifications: [],
    ...parts,
  }
}

function minute(start: number, counts: UsageBucketIncrement['counts'], credits = 0): UsageBucketIncrement {
  return { granularity: 'minute', start, expiresAt: start + KEPT, counts, credits }
}

function amounts(keyId: string, requests: number, rejections: number, credits: number): UsageKeyAmounts {
  return { keyId, requests, rejections, credits }
}

export function describeUsageContract(getStore: () => KeyStore): void {
  it('usage: adds up counts and credits per bucket across batches and origins; an untouched bucket is null', async () => {
    const store = getStore()
    const keyId = uniqueId()
    const t = BASE + DAY_MS
    const series = { kind: 'key', id: keyId } as const
    await store.recordUsage(
      batch(uniqueId(), { series: [{ series, buckets: [minute(t, { VALID: 3, RATE_LIMITED: 1 }, 5)] }] }),
    )
    await store.recordUsage(
      batch(uniqueId(), {
        series: [
          {
            series,
            buckets: [minute(t, { VALID: 2, NOT_FOUND: 4 }, 1), minute(t + 60_000, { QUOTA_EXCEEDED: 7 })],
          },
        ],
      }),
    )
    const read = await store.readUsage({
      series,
      granularity: 'minute',
      starts: [t - 60_000, t, t + 60_000],
      now: t,
    })
    expect(read).toEqual([
      null,
      { counts: { VALID: 5, RATE_LIMITED: 1, NOT_FOUND: 4 }, credits: 6 },
      { counts: { QUOTA_EXCEEDED: 7 }, credits: 0 },
    ])
  })

  it('usage: keeps key, owner and installation series and each granularity apart', async () => {
    const store = getStore()
    const id = uniqueId()
    const ownerId = `${id} {owner} ü` // owner ids may hold anything; stores must cope
    const t = BASE + 2 * DAY_MS
    const hour = {
      granularity: 'hour',
      start: t,
      expiresAt: t + KEPT,
      counts: { VALID: 9 },
      credits: 0,
    } as const
    await store.recordUsage(
      batch(uniqueId(), {
        series: [
          { series: { kind: 'key', id }, buckets: [minute(t, { VALID: 1 })] },
          { series: { kind: 'owner', id }, buckets: [minute(t, { VALID: 2 })] },
          { series: { kind: 'owner', id: ownerId }, buckets: [minute(t, { EXPIRED: 3 })] },
          { series: { kind: 'installation' }, buckets: [hour] },
        ],
      }),
    )
    const read = (series: Parameters<KeyStore['readUsage']>[0]['series'], granularity: 'minute' | 'hour') =>
      store.readUsage({ series, granularity, starts: [t], now: t })
    expect(await read({ kind: 'key', id }, 'minute')).toEqual([{ counts: { VALID: 1 }, credits: 0 }])
    expect(await read({ kind: 'key', id }, 'hour')).toEqual([null])
    expect(await read({ kind: 'owner', id }, 'minute')).toEqual([{ counts: { VALID: 2 }, credits: 0 }])
    expect(await read({ kind: 'owner', id: ownerId }, 'minute')).toEqual([
      { counts: { EXPIRED: 3 }, credits: 0 },
    ])
    expect(await read({ kind: 'installation' }, 'hour')).toEqual([{ counts: { VALID: 9 }, credits: 0 }])
  })

  it('usage: applies a batch sent again with the same origin and sequence once', async () => {
    const store = getStore()
    const keyId = uniqueId()
    const origin = uniqueId()
    const t = BASE + 3 * DAY_MS
    const once = batch(origin, {
      series: [{ series: { kind: 'key', id: keyId }, buckets: [minute(t, { VALID: 1 }, 2)] }],
      rankings: [{ ownerId: keyId, buckets: [{ ...minute(t, {}), keys: [amounts(keyId, 1, 0, 2)] }] }],
    })
    await store.recordUsage(once)
    await store.recordUsage(once)
    // Another process may use the same sequence number: it counts.
    await store.recordUsage({ ...once, origin: uniqueId() })
    expect(
      await store.readUsage({
        series: { kind: 'key', id: keyId },
        granularity: 'minute',
        starts: [t],
        now: t,
      }),
    ).toEqual([{ counts: { VALID: 2 }, credits: 4 }])
    expect(
      await store.rankUsage({
        ownerId: keyId,
        granularity: 'minute',
        starts: [t],
        by: 'requests',
        limit: 5,
        now: t,
      }),
    ).toEqual([amounts(keyId, 2, 0, 4)])
  })

  it('usage: reads a bucket whose expiresAt has passed as empty', async () => {
    const store = getStore()
    const keyId = uniqueId()
    const t = BASE + 4 * DAY_MS
    const series = { kind: 'key', id: keyId } as const
    await store.recordUsage(
      batch(uniqueId(), {
        now: t + 120_000,
        series: [
          {
            series,
            buckets: [
              { ...minute(t, { VALID: 1 }), expiresAt: t + 120_000 },
              { ...minute(t + 60_000, { VALID: 1 }), expiresAt: t + 120_050 },
            ],
          },
        ],
      }),
    )
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(
      await store.readUsage({ series, granularity: 'minute', starts: [t, t + 60_000], now: t + 120_120 }),
    ).toEqual([null, null])
  })

  it('usage: ranks keys by each metric over the buckets asked for, ties by id, only above zero, at most limit', async () => {
    const store = getStore()
    const base = uniqueId()
    const [a, b, c] = [`${base}a`, `${base}b`, `${base}c`]
    const ownerId = uniqueId()
    const t = BASE + 5 * DAY_MS
    const bucket = (start: number, keys: UsageKeyAmounts[]) => ({ ...minute(start, {}), keys })
    await store.recordUsage(
      batch(uniqueId(), {
        rankings: [
          {
            ownerId: null,
            buckets: [
              bucket(t, [amounts(a, 5, 1, 0), amounts(b, 3, 3, 10), amounts(c, 5, 0, 2)]),
              bucket(t + 60_000, [amounts(b, 3, 0, 0)]),
              bucket(t + 120_000, [amounts(c, 100, 100, 100)]),
            ],
          },
          { ownerId, buckets: [bucket(t, [amounts(c, 1, 1, 1)])] },
        ],
      }),
    )
    const rank = (by: 'requests' | 'rejections' | 'credits', limit = 10, owner: string | null = null) =>
      store.rankUsage({ ownerId: owner, granularity: 'minute', starts: [t, t + 60_000], by, limit, now: t })
    expect(await rank('requests')).toEqual([amounts(b, 6, 3, 10), amounts(a, 5, 1, 0), amounts(c, 5, 0, 2)])
    expect(await rank('rejections')).toEqual([amounts(b, 6, 3, 10), amounts(a, 5, 1, 0)])
    expect(await rank('credits')).toEqual([amounts(b, 6, 3, 10), amounts(c, 5, 0, 2)])
    expect(await rank('requests', 2)).toEqual([amounts(b, 6, 3, 10), amounts(a, 5, 1, 0)])
    expect(await rank('requests', 10, ownerId)).toEqual([amounts(c, 1, 1, 1)])
    expect(await rank('requests', 10, uniqueId())).toEqual([])
  })

  it('usage: keeps the latest last-used time per key, whatever order writes arrive in', async () => {
    const store = getStore()
    const [first, second] = [uniqueId(), uniqueId()]
    await store.recordUsage(batch(uniqueId(), { lastUsed: [{ keyId: first, at: BASE + 5 }] }))
    await store.recordUsage(
      batch(uniqueId(), {
        lastUsed: [
          { keyId: first, at: BASE + 3 },
          { keyId: second, at: BASE + 1 },
        ],
      }),
    )
    expect(await store.lastUsed([second, uniqueId(), first])).toEqual([BASE + 1, null, BASE + 5])
    expect(await store.lastUsed([])).toEqual([])
    expect(typeof store.usageLog).toBe('boolean')
  })
}
