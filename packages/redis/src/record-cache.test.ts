import { describe, expect, it } from 'vitest'
import { RecordCache } from './record-cache.ts'

function cache(options: { size?: number; ttl?: number; negativeTtl?: number; negativeSize?: number } = {}) {
  let now = 1_000
  const records = new RecordCache<string>({
    maxEntries: options.size ?? 3,
    ttlMs: options.ttl ?? 100,
    maxMissing: options.negativeSize ?? 3,
    missingTtlMs: options.negativeTtl ?? 10,
    now: () => now,
  })
  return { records, advance: (ms: number) => (now += ms) }
}

describe('RecordCache', () => {
  it('returns what a read stored, until its TTL, then marks it stale', () => {
    const { records, advance } = cache()
    const started = records.begin()
    records.store('a', 'A', started)
    records.end()
    expect(records.lookup('a')).toEqual({ value: 'A', stale: false })
    advance(100)
    expect(records.lookup('a')).toEqual({ value: 'A', stale: true })
  })

  it('does not cache a read that an invalidation of the same id overtook', () => {
    const { records } = cache()
    const started = records.begin()
    records.invalidate('a')
    records.store('a', 'old A', started)
    records.end()
    expect(records.lookup('a')).toBeUndefined()
    // Another id's invalidation does not stop it.
    const again = records.begin()
    records.invalidate('b')
    records.store('a', 'A', again)
    records.end()
    expect(records.lookup('a')?.value).toBe('A')
  })

  it('does not cache a read that a flush overtook', () => {
    const { records } = cache()
    const started = records.begin()
    records.flush()
    records.store('a', 'A', started)
    records.end()
    expect(records.lookup('a')).toBeUndefined()
  })

  it('keeps at most its size, dropping the least recently used', () => {
    const { records } = cache({ size: 2 })
    const started = records.begin()
    records.store('a', 'A', started)
    records.store('b', 'B', started)
    records.lookup('a')
    records.store('c', 'C', started)
    records.end()
    expect(records.size).toBe(2)
    expect(records.lookup('b')).toBeUndefined()
    expect(records.lookup('a')?.value).toBe('A')
  })

  it('remembers unknown ids for the negative TTL only, and forgets them when created', () => {
    const { records, advance } = cache({ negativeTtl: 10 })
    let started = records.begin()
    records.store('x', null, started)
    expect(records.lookup('x')).toEqual({ value: null, stale: false })
    advance(10)
    expect(records.lookup('x')?.stale).toBe(true)
    records.store('x', null, started)
    records.forgetMissing('x')
    expect(records.lookup('x')).toBeUndefined()
    records.end()
    started = records.begin()
    records.store('y', 'Y', started)
    records.forgetMissing('y')
    expect(records.lookup('y')?.value).toBe('Y')
    records.end()
  })

  it('keeps unknown ids apart: any number of them never evicts a record', () => {
    const { records } = cache({ size: 2, negativeSize: 2 })
    const started = records.begin()
    records.store('a', 'A', started)
    for (let index = 0; index < 100; index++) records.store(`fake${index}`, null, started)
    records.end()
    expect(records.lookup('a')?.value).toBe('A')
    expect(records.size).toBe(1)
    expect(records.missingSize).toBe(2)
    // The most recent unknown ids are the ones kept.
    expect(records.lookup('fake99')).toEqual({ value: null, stale: false })
    expect(records.lookup('fake0')).toBeUndefined()
  })

  it('caches nothing with size 0, and no unknown ids with a negative TTL or size of 0', () => {
    const none = new RecordCache<string>({ maxEntries: 0, ttlMs: 100, maxMissing: 10, missingTtlMs: 10 })
    none.store('a', 'A', none.begin())
    expect(none.lookup('a')).toBeUndefined()
    for (const [maxMissing, missingTtlMs] of [
      [10, 0],
      [0, 10],
    ] as const) {
      const noNegative = new RecordCache<string>({ maxEntries: 10, ttlMs: 100, maxMissing, missingTtlMs })
      noNegative.store('a', null, noNegative.begin())
      expect(noNegative.lookup('a')).toBeUndefined()
    }
  })
})
