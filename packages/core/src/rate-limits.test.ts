import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, InvalidArgumentError } from './errors.ts'
import { createKeyward, type KeywardOptions } from './index.ts'
import { resolvePolicies } from './policies.ts'
import type { RateLimitState, VerifyResult } from './types.ts'

// rate-limiter-flexible's memory backend reads Date.now() and expires windows with setTimeout:
// fake both so windows can be crossed without sleeping.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
  vi.setSystemTime(Date.UTC(2026, 0, 1))
})
afterEach(() => {
  vi.useRealTimers()
})

const setup = (options: KeywardOptions = {}) => createKeyward({ ...options })

const codeOf = (result: VerifyResult) => (result.valid ? 'VALID' : result.code)

function statesOf(result: VerifyResult): RateLimitState[] {
  if (!('rateLimit' in result) || result.rateLimit === undefined) throw new Error('expected rate-limit state')
  return result.rateLimit
}

describe('resolvePolicies', () => {
  it('names a single installation-wide policy `default`', () => {
    expect(resolvePolicies('rateLimit', { points: 100, duration: 60 }, 'default')).toEqual([
      { name: 'default', points: 100, duration: 60, blockDuration: 0, syncMs: null },
    ])
  })

  it('names unnamed key policies `<points>-per-<duration>s` and keeps given names', () => {
    expect(
      resolvePolicies(
        'rateLimit',
        [
          { points: 3, duration: 1 },
          { points: 5, duration: 3600, name: 'hourly', blockDuration: 60 },
        ],
        null,
      ),
    ).toEqual([
      { name: '3-per-1s', points: 3, duration: 1, blockDuration: 0, syncMs: null },
      { name: 'hourly', points: 5, duration: 3600, blockDuration: 60, syncMs: null },
    ])
  })

  it.each([
    ['rateLimit.points', { points: 0, duration: 1 }],
    ['rateLimit.points', { points: 1.5, duration: 1 }],
    ['rateLimit.duration', { points: 1, duration: 0 }],
    ['rateLimit.duration', { points: 1, duration: '60' }],
    ['rateLimit.blockDuration', { points: 1, duration: 1, blockDuration: -1 }],
    ['rateLimit.name', { points: 1, duration: 1, name: 'has space' }],
    ['rateLimit.name', { points: 1, duration: 1, name: '' }],
    ['rateLimit', null],
    ['rateLimit', []],
    ['rateLimit', Array.from({ length: 9 }, (_, i) => ({ points: i + 1, duration: 1 }))],
    [
      'rateLimit[1].name',
      [
        { points: 1, duration: 1, name: 'x' },
        { points: 2, duration: 1, name: 'x' },
      ],
    ],
    ['rateLimit[0].points', [{ points: -1, duration: 1 }]],
  ])('rejects an invalid policy, naming %s', (field, input) => {
    expect(() => resolvePolicies('rateLimit', input as never, 'default')).toThrow(ConfigError)
    try {
      resolvePolicies('rateLimit', input as never, 'default')
    } catch (error) {
      expect((error as ConfigError).option).toBe(field)
    }
  })

  it('reports a bad key policy as an InvalidArgumentError at create', async () => {
    const keyward = setup()
    await expect(
      keyward.keys.create({ ownerId: 'o', rateLimit: { points: 0, duration: 1 } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe('rate limits through verify', () => {
  it('applies the default policy to keys without their own, per key', async () => {
    const keyward = setup({ rateLimit: { points: 2, duration: 60 } })
    const a = await keyward.keys.create({ ownerId: 'o' })
    const b = await keyward.keys.create({ ownerId: 'o' })
    expect(statesOf(await keyward.verify(a.key))).toEqual([
      { policy: 'default', limit: 2, remaining: 1, window: 60, resetMs: 60_000 },
    ])
    expect(statesOf(await keyward.verify(a.key))[0]?.remaining).toBe(0)
    expect(codeOf(await keyward.verify(a.key))).toBe('RATE_LIMITED')
    // b has its own bucket
    expect(codeOf(await keyward.verify(b.key))).toBe('VALID')
  })

  it('does not rate-limit at all without a default or key policy', async () => {
    const keyward = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    for (let i = 0; i < 200; i++) {
      const result = await keyward.verify(key)
      expect(result.valid).toBe(true)
      expect(result).not.toHaveProperty('rateLimit')
    }
  })

  it("uses a key's own policy instead of the default", async () => {
    const keyward = setup({ rateLimit: { points: 1, duration: 60 } })
    const { key } = await keyward.keys.create({ ownerId: 'o', rateLimit: { points: 5, duration: 60 } })
    for (let i = 0; i < 5; i++) {
      const result = await keyward.verify(key)
      expect(codeOf(result)).toBe('VALID')
      expect(statesOf(result)).toEqual([
        { policy: '5-per-60s', limit: 5, remaining: 4 - i, window: 60, resetMs: expect.any(Number) },
      ])
    }
    expect(codeOf(await keyward.verify(key))).toBe('RATE_LIMITED')
  })

  it('opens the window again once it has passed', async () => {
    const keyward = setup({ rateLimit: { points: 1, duration: 10 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect(codeOf(await keyward.verify(key))).toBe('VALID')
    vi.advanceTimersByTime(4000)
    const limited = await keyward.verify(key)
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 6000 })
    vi.advanceTimersByTime(6000)
    expect(codeOf(await keyward.verify(key))).toBe('VALID')
  })

  it('keeps a key blocked for blockDuration once over the limit', async () => {
    const keyward = setup({ rateLimit: { points: 1, duration: 1, blockDuration: 30 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.verify(key)
    expect(await keyward.verify(key)).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 30_000 })
    vi.advanceTimersByTime(5000)
    expect(codeOf(await keyward.verify(key))).toBe('RATE_LIMITED')
    vi.advanceTimersByTime(25_000)
    expect(codeOf(await keyward.verify(key))).toBe('VALID')
  })

  it('enforces several policies per key (3/s and 5/h), with limit/remaining/reset/retry-after per policy', async () => {
    const keyward = setup()
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      rateLimit: [
        { points: 3, duration: 1 },
        { points: 5, duration: 3600, name: 'hourly' },
      ],
    })
    for (let i = 0; i < 3; i++) {
      expect(statesOf(await keyward.verify(key))).toEqual([
        { policy: '3-per-1s', limit: 3, remaining: 2 - i, window: 1, resetMs: 1000 },
        { policy: 'hourly', limit: 5, remaining: 4 - i, window: 3600, resetMs: 3_600_000 },
      ])
    }
    const perSecond = await keyward.verify(key)
    expect(perSecond).toMatchObject({ valid: false, code: 'RATE_LIMITED', retryAfterMs: 1000 })
    const [second, hourly] = statesOf(perSecond)
    expect(second).toEqual({
      policy: '3-per-1s',
      limit: 3,
      remaining: 0,
      window: 1,
      resetMs: 1000,
      retryAfterMs: 1000,
    })
    // The rejected request is refunded to the hourly policy: 2 of 5 are left, not 1.
    expect(hourly).toMatchObject({ policy: 'hourly', limit: 5, window: 3600, remaining: 2 })
    expect(hourly).not.toHaveProperty('retryAfterMs')

    // A minute later the per-second window is open; exactly the 2 hourly points left are served.
    vi.advanceTimersByTime(60_000)
    let served = 0
    let result = await keyward.verify(key)
    while (result.valid) {
      served += 1
      result = await keyward.verify(key)
    }
    expect(served).toBe(2)
    expect(result).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3_540_000 })
    const hourlyState = statesOf(result).find((state) => state.policy === 'hourly')
    expect(hourlyState).toMatchObject({ remaining: 0, retryAfterMs: 3_540_000, resetMs: 3_540_000 })
    expect(statesOf(result).find((state) => state.policy === '3-per-1s')).not.toHaveProperty('retryAfterMs')
  })

  it('gives the longest wait as retryAfterMs when several policies reject', async () => {
    const keyward = setup()
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      rateLimit: [
        { points: 1, duration: 10 },
        { points: 1, duration: 100 },
      ],
    })
    await keyward.verify(key)
    const result = await keyward.verify(key)
    expect(result).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 100_000 })
    expect(statesOf(result).map((state) => state.retryAfterMs)).toEqual([10_000, 100_000])
  })

  it('names several installation-wide policies by their shape', async () => {
    const keyward = setup({
      rateLimit: [
        { points: 10, duration: 1 },
        { points: 100, duration: 60 },
      ],
    })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect(statesOf(await keyward.verify(key)).map((state) => state.policy)).toEqual([
      '10-per-1s',
      '100-per-60s',
    ])
  })

  it('applies a policy changed by update from the next request', async () => {
    const keyward = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.keys.update(record.id, { rateLimit: { points: 1, duration: 60 } })
    expect((await keyward.verify(key)).valid).toBe(true)
    expect(codeOf(await keyward.verify(key))).toBe('RATE_LIMITED')
    await keyward.keys.update(record.id, { rateLimit: null })
    expect((await keyward.verify(key)).valid).toBe(true)
  })

  it('lets exactly `points` of many concurrent requests through', async () => {
    const keyward = setup({ rateLimit: { points: 10, duration: 60 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const results = await Promise.all(Array.from({ length: 100 }, () => keyward.verify(key)))
    expect(results.filter((result) => result.valid)).toHaveLength(10)
    expect(results.filter((result) => codeOf(result) === 'RATE_LIMITED')).toHaveLength(90)
  })
})
