import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../../test/support/core-fixtures.ts'
import { FlakyUsageStore } from '../../../../test/support/usage-fixtures.ts'
import { InvalidArgumentError, StoreError } from '../errors.ts'
import { formatKey, parseKey, randomBase62 } from '../key-format.ts'
import { USAGE_OUTCOMES } from './usage-model.ts'

const MINUTE = 60_000
const HOUR = 3_600_000

function withOtherSecret(key: string): string {
  const parsed = parseKey(key)
  if (parsed === null) throw new Error('not a key')
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

describe('usage.get', () => {
  it('puts 59.999 s and 60.000 s into different minute buckets and the same hour bucket', async () => {
    const { keyward, clock } = keywardWithClock()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    clock.advance(59_999)
    await keyward.verify(key)
    clock.advance(1)
    await keyward.verify(key)
    await keyward.verify(key)
    const minutes = await keyward.usage.get(record.id, {
      from: new Date(START),
      to: new Date(START + 2 * MINUTE),
      granularity: 'minute',
    })
    expect(minutes.buckets.map((bucket) => [bucket.start.getTime() - START, bucket.requests])).toEqual([
      [0, 1],
      [MINUTE, 2],
    ])
    const hours = await keyward.usage.get(record.id, { from: new Date(START), granularity: 'hour' })
    expect(hours.buckets.map((bucket) => bucket.requests)).toEqual([3])
  })

  it('returns every bucket of the range, oldest first, empty ones with a zero for every outcome', async () => {
    const { keyward, clock } = keywardWithClock()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 10 } })
    clock.advance(2 * MINUTE + 5)
    await keyward.verify(key, { cost: 4 })
    const report = await keyward.usage.get(
      { keyId: record.id },
      { from: new Date(START + 30_000), to: new Date(START + 5 * MINUTE), granularity: 'minute' },
    )
    expect(report.granularity).toBe('minute')
    expect(report.buckets.map((bucket) => bucket.start)).toEqual(
      [0, 1, 2, 3, 4].map((index) => new Date(START + index * MINUTE)),
    )
    const zeros = Object.fromEntries(USAGE_OUTCOMES.map((outcome) => [outcome, 0]))
    expect(Object.keys(zeros)).toHaveLength(USAGE_OUTCOMES.length)
    expect(report.buckets[0]).toEqual({ start: new Date(START), counts: zeros, requests: 0, credits: 0 })
    expect(report.buckets[2]).toEqual({
      start: new Date(START + 2 * MINUTE),
      counts: { ...zeros, VALID: 1 },
      requests: 1,
      credits: 4,
    })
    expect(report.totals).toEqual({ counts: { ...zeros, VALID: 1 }, requests: 1, credits: 4 })
  })

  it('sees everything this process recorded before the call, without waiting for the flush timer', async () => {
    const store = new FlakyUsageStore()
    const { keyward } = keywardWithClock({ store, usage: { flushIntervalMs: 3_600_000 } })
    await keyward.verify('')
    expect(store.batches).toHaveLength(0)
    const report = await keyward.usage.get(
      { installation: true },
      { from: new Date(START), to: new Date(START + HOUR) },
    )
    expect(report.totals.counts.MISSING).toBe(1)
    expect(store.batches).toHaveLength(1)
  })

  it('refuses bad arguments with an InvalidArgumentError naming the argument', async () => {
    const { keyward, clock } = keywardWithClock()
    clock.advance(100 * 86_400_000)
    const now = keyward.now()
    const at = (ms: number) => new Date(now + ms)
    const cases: [unknown, unknown, string][] = [
      ['k', { from: 'yesterday' }, 'from'],
      ['k', { from: new Date(Number.NaN) }, 'from'],
      ['k', { from: at(-HOUR), to: Date.now() }, 'to'],
      ['k', { from: at(0), to: at(-HOUR) }, 'from'],
      ['k', { from: at(-HOUR), granularity: 'week' }, 'granularity'],
      ['k', { from: at(-49 * HOUR), granularity: 'minute' }, 'from'],
      ['k', { from: at(0), to: at(49 * HOUR), granularity: 'minute' }, 'to'],
      ['k', { from: at(-91 * 24 * HOUR), granularity: 'hour' }, 'from'],
      ['k', null, 'query'],
      [{}, { from: at(-HOUR) }, 'target'],
      [{ keyId: 'a', ownerId: 'b' }, { from: at(-HOUR) }, 'target'],
      [{ keyId: 42 }, { from: at(-HOUR) }, 'keyId'],
      [{ ownerId: '' }, { from: at(-HOUR) }, 'ownerId'],
      [{ installation: 'yes' }, { from: at(-HOUR) }, 'installation'],
      [42, { from: at(-HOUR) }, 'target'],
    ]
    for (const [target, query, field] of cases) {
      const failure = await keyward.usage
        .get(target as never, query as never)
        .catch((error: unknown) => error)
      expect(failure, JSON.stringify([target, query])).toBeInstanceOf(InvalidArgumentError)
      expect((failure as InvalidArgumentError).field, JSON.stringify([target, query])).toBe(field)
    }
    // The same range is fine where the retention covers it.
    await expect(
      keyward.usage.get('k', { from: at(-49 * HOUR), granularity: 'hour' }),
    ).resolves.toMatchObject({
      granularity: 'hour',
    })
    await expect(
      keyward.usage.get('k', { from: at(-48 * HOUR), granularity: 'minute' }),
    ).resolves.toBeDefined()
  })

  it('keeps each granularity to its configured retention', async () => {
    const { keyward } = keywardWithClock({ usage: { retentionMs: { minute: 10 * MINUTE, hour: 2 * HOUR } } })
    const now = keyward.now()
    await expect(
      keyward.usage.get('k', { from: new Date(now - 10 * MINUTE), granularity: 'minute' }),
    ).resolves.toBeDefined()
    await expect(
      keyward.usage.get('k', { from: new Date(now - 11 * MINUTE), granularity: 'minute' }),
    ).rejects.toMatchObject({ field: 'from', message: expect.stringContaining('10 min') })
    await expect(
      keyward.usage.get('k', { from: new Date(now - 3 * HOUR), granularity: 'hour' }),
    ).rejects.toMatchObject({ field: 'from' })
  })
})

describe('usage.top', () => {
  async function ranked() {
    const { keyward, clock } = keywardWithClock()
    const one = await keyward.keys.create({ ownerId: 'org_a', scopes: ['read'] })
    const two = await keyward.keys.create({ ownerId: 'org_a', scopes: ['read'] })
    const three = await keyward.keys.create({ ownerId: 'org_b', credits: { remaining: 100 } })
    for (let i = 0; i < 3; i++) await keyward.verify(one.key)
    await keyward.verify(two.key)
    await keyward.verify(two.key, { scopes: 'write' })
    await keyward.verify(two.key, { scopes: 'write' })
    await keyward.verify(three.key, { cost: 5 })
    await keyward.verify(withOtherSecret(three.key))
    const unknown = formatKey('acme', 'live', randomBase62(12), randomBase62(32))
    await keyward.verify(unknown)
    clock.advance(MINUTE)
    return {
      keyward,
      one: one.record.id,
      two: two.record.id,
      three: three.record.id,
      unknown: parseKey(unknown)!.id,
    }
  }
  const range = { from: new Date(START), to: new Date(START + HOUR) }

  it('ranks keys by requests, rejections or credits, highest first, ties by key id', async () => {
    const { keyward, one, two, three } = await ranked()
    const [first, second] = [one, two].sort()
    expect(await keyward.usage.top({ ...range, by: 'requests' })).toEqual([
      { keyId: first, ownerId: 'org_a', requests: 3, rejections: first === one ? 0 : 2, credits: 0 },
      { keyId: second, ownerId: 'org_a', requests: 3, rejections: second === one ? 0 : 2, credits: 0 },
      { keyId: three, ownerId: 'org_b', requests: 2, rejections: 1, credits: 5 },
    ])
    expect((await keyward.usage.top({ ...range, by: 'rejections' })).map((entry) => entry.keyId)).toEqual([
      two,
      three,
    ])
    expect(await keyward.usage.top({ ...range, by: 'credits' })).toEqual([
      { keyId: three, ownerId: 'org_b', requests: 2, rejections: 1, credits: 5 },
    ])
    expect((await keyward.usage.top({ ...range, limit: 1 })).map((entry) => entry.keyId)).toEqual([first])
  })

  it('counts an id with no record for the installation only: no series, no ranking of its own', async () => {
    const { keyward, unknown } = await ranked()
    expect((await keyward.usage.get({ keyId: unknown }, range)).totals.requests).toBe(0)
    expect((await keyward.usage.top({ ...range, limit: 100 })).map((entry) => entry.keyId)).not.toContain(
      unknown,
    )
    expect(
      (await keyward.usage.get({ installation: true }, range)).totals.counts.NOT_FOUND,
    ).toBeGreaterThanOrEqual(1)
  })

  it("ranks only an owner's keys with ownerId, counting what was attributed to the owner", async () => {
    const { keyward, one, two, three } = await ranked()
    expect(
      (await keyward.usage.top({ ...range, ownerId: 'org_a', by: 'rejections' })).map((e) => e.keyId),
    ).toEqual([two])
    expect(await keyward.usage.top({ ...range, ownerId: 'org_b' })).toEqual([
      { keyId: three, ownerId: 'org_b', requests: 1, rejections: 0, credits: 5 },
    ])
    expect((await keyward.usage.top({ ...range, ownerId: 'org_a' })).map((e) => e.keyId).sort()).toEqual(
      [one, two].sort(),
    )
    expect(await keyward.usage.top({ ...range, ownerId: 'org_nobody' })).toEqual([])
  })

  it('picks buckets that fit the range: days for whole days, else the finest that reaches back', async () => {
    const store = new FlakyUsageStore()
    const { keyward, clock } = keywardWithClock({ store })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.verify(key)
    clock.advance(3 * 86_400_000)
    const granularityOf = async (from: number, to?: number) => {
      const ranks: string[] = []
      const rank = store.rankUsage.bind(store)
      store.rankUsage = async (query) => {
        ranks.push(query.granularity)
        return rank(query)
      }
      await keyward.usage.top(
        to === undefined ? { from: new Date(from) } : { from: new Date(from), to: new Date(to) },
      )
      return ranks[0]
    }
    expect(await granularityOf(START, START + 86_400_000)).toBe('day')
    expect(await granularityOf(START + HOUR, START + 2 * HOUR)).toBe('hour')
    expect(await granularityOf(keyward.now() - 10 * MINUTE)).toBe('minute')
    expect(await granularityOf(START + 1)).toBe('hour')
    expect(
      (await keyward.usage.top({ from: new Date(START), to: new Date(START + 86_400_000) }))[0]?.requests,
    ).toBe(1)
  })

  it('refuses bad arguments with an InvalidArgumentError naming the argument', async () => {
    const { keyward } = keywardWithClock()
    const from = new Date(keyward.now() - HOUR)
    const cases: [unknown, string][] = [
      [{ from, by: 'bytes' }, 'by'],
      [{ from, limit: 0 }, 'limit'],
      [{ from, limit: 1001 }, 'limit'],
      [{ from, ownerId: '' }, 'ownerId'],
      [{ from: 'today' }, 'from'],
      [{ from, to: new Date(from.getTime() - 1) }, 'from'],
      [{ from, granularity: 'second' }, 'granularity'],
      [{ from: new Date(keyward.now() - 800 * 86_400_000) }, 'from'],
      [undefined, 'query'],
    ]
    for (const [query, field] of cases) {
      await expect(keyward.usage.top(query as never), JSON.stringify(query)).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        field,
      })
    }
  })
})

describe('lastUsedAt', () => {
  it('is written at most once per key per interval, and shown by keys.get and keys.list', async () => {
    const store = new FlakyUsageStore()
    const { keyward, clock } = keywardWithClock({ store })
    const { key, record } = await keyward.keys.create({ ownerId: 'org_used' })
    expect(record.lastUsedAt).toBeNull()
    expect((await keyward.keys.get(record.id))?.lastUsedAt).toBeNull()
    const written = () => store.batches.flatMap((batch) => batch.lastUsed)

    await keyward.verify(key)
    // Before any flush: this process's pending use is merged in.
    expect((await keyward.keys.get(record.id))?.lastUsedAt).toEqual(new Date(START))
    await keyward.usage.flush()
    expect(written()).toEqual([{ keyId: record.id, at: START }])

    clock.advance(59_999)
    await keyward.verify(key)
    await keyward.usage.flush()
    expect(written()).toHaveLength(1)
    expect((await keyward.keys.get(record.id))?.lastUsedAt).toEqual(new Date(START))

    clock.advance(1)
    await keyward.verify(key, { scopes: 'missing' }) // refused, but used with its secret
    await keyward.usage.flush()
    expect(written()).toEqual([
      { keyId: record.id, at: START },
      { keyId: record.id, at: START + 60_000 },
    ])
    expect(await store.lastUsed([record.id])).toEqual([START + 60_000])

    clock.advance(120_000)
    await keyward.verify(withOtherSecret(key)) // someone without the secret: not a use
    await keyward.usage.flush()
    expect(written()).toHaveLength(2)
    const { items } = await keyward.keys.list({ ownerId: 'org_used' })
    expect(items.map((item) => item.lastUsedAt)).toEqual([new Date(START + 60_000)])
    expect((await keyward.keys.revoke(record.id)).lastUsedAt).toEqual(new Date(START + 60_000))
  })

  it('never turns a done write into an error when lastUsedAt cannot be read', async () => {
    const store = new FlakyUsageStore()
    const { keyward } = keywardWithClock({ store })
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.verify(key)
    await keyward.usage.flush()
    store.lastUsed = async () => {
      throw new StoreError('keyward: usage node down (test)')
    }
    const revoked = await keyward.keys.revoke(record.id)
    expect(revoked).toMatchObject({ id: record.id, lastUsedAt: null })
    expect(revoked.revokedAt).toEqual(new Date(START))
    await expect(keyward.keys.get(record.id)).rejects.toThrow(StoreError)
  })

  it('follows its own interval option', async () => {
    const store = new FlakyUsageStore()
    const { keyward, clock } = keywardWithClock({ store, usage: { lastUsedIntervalMs: 1000 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    for (let i = 0; i < 5; i++) {
      await keyward.verify(key)
      clock.advance(500)
    }
    await keyward.usage.flush()
    expect(store.batches.flatMap((batch) => batch.lastUsed).map((entry) => entry.at - START)).toEqual([2000])
  })
})
