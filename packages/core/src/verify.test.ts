import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { keywardWithClock, START } from '../../../test/support/core-fixtures.ts'
import { KeyHasher } from './hashing.ts'
import { createKeyward } from './index.ts'
import { BASE62_ALPHABET, formatKey, isWellFormedKey, parseKey, randomBase62 } from './key-format.ts'
import type { ChargeRequest, ChargeResult, KeyStore } from './store/interface.ts'
import { MemoryStore } from './store/memory-store.ts'
import type { StoredKey, VerifyResult } from './types.ts'

/** Wraps a store so every method call is recorded. */
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

const setup = keywardWithClock

/** The same key with another secret (and a correct checksum): passes the offline checks. */
function withOtherSecret(key: string): string {
  const parsed = parseKey(key)
  if (parsed === null) throw new Error('not a key')
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

describe('verify: one test per VerifyCode', () => {
  it('returns a success with the verified key for a valid key', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'org_1', name: 'n', scopes: ['a:b'] })
    const result = await keyward.verify(key)
    expect(result).toEqual({
      valid: true,
      key: {
        id: record.id,
        ownerId: 'org_1',
        name: 'n',
        environment: 'live',
        scopes: ['a:b'],
        expiresAt: null,
        meta: {},
      },
    })
  })

  it.each([undefined, null, ''])('MISSING for %j', async (token) => {
    const { keyward } = setup()
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'MISSING' })
  })

  it.each([
    ' ',
    'Bearer',
    'acme',
    'acme_live_',
    'not a key at all',
    'acme_live_gn4A6m8CKdow_R7JVUKlwW5JjyWSlUqp68EHAhDVOeD2b3lFhBi',
  ])('MALFORMED for %j', async (token) => {
    const { keyward } = setup()
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'MALFORMED' })
  })

  it('MALFORMED for a non-string token from untyped callers', async () => {
    const { keyward } = setup()
    for (const token of [42, {}, [], true]) {
      expect(await keyward.verify(token as unknown as string)).toEqual({ valid: false, code: 'MALFORMED' })
    }
  })

  it('NOT_FOUND for a well-formed key whose id does not exist', async () => {
    const { keyward } = setup()
    const token = formatKey('acme', 'live', randomBase62(12), randomBase62(32))
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'NOT_FOUND' })
  })

  it('hashes the presented key even when the id is unknown, so both NOT_FOUND paths cost one HMAC', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const hash = vi.spyOn(KeyHasher.prototype, 'hash')
    const hmac = vi.spyOn(KeyHasher.prototype as unknown as { hmac: () => unknown }, 'hmac')
    try {
      await keyward.verify(formatKey('acme', 'live', randomBase62(12), randomBase62(32)))
      expect(hash).toHaveBeenCalledTimes(1)
      const unknownHmacs = hmac.mock.calls.length
      hmac.mockClear()
      await keyward.verify(withOtherSecret(key))
      expect(hmac.mock.calls.length).toBe(unknownHmacs)
    } finally {
      hash.mockRestore()
      hmac.mockRestore()
    }
  })

  it('NOT_FOUND, and the same answer, for a known id with a wrong secret (no oracle for which ids exist)', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const unknown = await keyward.verify(formatKey('acme', 'live', randomBase62(12), randomBase62(32)))
    const wrongSecret = await keyward.verify(withOtherSecret(key))
    expect(wrongSecret).toEqual({ valid: false, code: 'NOT_FOUND' })
    expect(wrongSecret).toEqual(unknown)
  })

  it('NOT_FOUND for a wrong secret even when the key is revoked, disabled or expired (no state leaks)', async () => {
    const { keyward, clock } = setup()
    const revoked = await keyward.keys.create({ ownerId: 'o' })
    await keyward.keys.revoke(revoked.record.id)
    const disabled = await keyward.keys.create({ ownerId: 'o' })
    await keyward.keys.update(disabled.record.id, { disabled: true })
    const expired = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(clock() + 10) })
    clock.advance(20)
    for (const { key } of [revoked, disabled, expired]) {
      expect(await keyward.verify(withOtherSecret(key))).toEqual({ valid: false, code: 'NOT_FOUND' })
    }
  })

  it('REVOKED for a revoked key, with the key', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.keys.revoke(record.id)
    expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'REVOKED', key: { id: record.id } })
  })

  it('EXPIRED from the moment expiresAt is reached (injected clock)', async () => {
    const { keyward, clock } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(START + 60_000) })
    clock.advance(59_999)
    expect((await keyward.verify(key)).valid).toBe(true)
    clock.advance(1)
    expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'EXPIRED' })
  })

  it('DISABLED for a disabled key, and valid again once re-enabled', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.keys.update(record.id, { disabled: true })
    expect(await keyward.verify(key)).toMatchObject({
      valid: false,
      code: 'DISABLED',
      key: { id: record.id },
    })
    await keyward.keys.update(record.id, { disabled: false })
    expect((await keyward.verify(key)).valid).toBe(true)
  })

  it('WRONG_ENVIRONMENT for a test key against a live server, and a live key against a test server', async () => {
    const secret = 'x'.repeat(32)
    const live = createKeyward({ prefix: 'acme', environment: 'live', secret })
    const test = createKeyward({ prefix: 'acme', environment: 'test', secret, store: live.store })
    const testKey = await live.keys.create({ ownerId: 'o', environment: 'test' })
    expect(testKey.key.startsWith('acme_test_')).toBe(true)
    expect(testKey.record.environment).toBe('test')
    expect(await live.verify(testKey.key)).toMatchObject({ valid: false, code: 'WRONG_ENVIRONMENT' })
    expect((await test.verify(testKey.key)).valid).toBe(true)
    const liveKey = await live.keys.create({ ownerId: 'o' })
    expect(await test.verify(liveKey.key)).toMatchObject({ valid: false, code: 'WRONG_ENVIRONMENT' })
  })

  it('NOT_FOUND, not WRONG_ENVIRONMENT or valid, for a key relabelled to the other environment with a recomputed checksum', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o', environment: 'test' })
    const parsed = parseKey(key)!
    const relabelled = formatKey('acme', 'live', parsed.id, parsed.secret)
    expect(isWellFormedKey(relabelled, 'acme')).toBe(true)
    expect(await keyward.verify(relabelled)).toEqual({ valid: false, code: 'NOT_FOUND' })
  })

  it('INSUFFICIENT_SCOPE with the missing scopes and the key', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', scopes: ['orders:read'] })
    expect((await keyward.verify(key, { scopes: 'orders:read' })).valid).toBe(true)
    expect(await keyward.verify(key, { scopes: ['orders:read', 'orders:write', 'admin'] })).toEqual({
      valid: false,
      code: 'INSUFFICIENT_SCOPE',
      key: expect.objectContaining({ id: record.id }),
      missingScopes: ['orders:write', 'admin'],
    })
  })

  it('RATE_LIMITED with retryAfterMs and the state of the policy', async () => {
    const { keyward } = setup({ rateLimit: { points: 2, duration: 60 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect(await keyward.verify(key)).toMatchObject({
      valid: true,
      rateLimit: [{ policy: 'default', limit: 2, remaining: 1, window: 60 }],
    })
    await keyward.verify(key)
    const limited = await keyward.verify(key)
    expect(limited).toMatchObject({
      valid: false,
      code: 'RATE_LIMITED',
      rateLimit: [{ policy: 'default', limit: 2, remaining: 0, window: 60 }],
    })
    if (limited.valid || limited.code !== 'RATE_LIMITED') throw new Error('unreachable')
    expect(limited.retryAfterMs).toBeGreaterThan(0)
    expect(limited.retryAfterMs).toBeLessThanOrEqual(60_000)
    expect(limited.rateLimit?.[0]?.retryAfterMs).toBe(limited.retryAfterMs)
  })

  it('QUOTA_EXCEEDED once the credits are used up, with remaining 0', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 1 } })
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 0 } })
    const result = await keyward.verify(key)
    expect(result).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED', credits: { remaining: 0 } })
    // No refill configured: nothing to wait for.
    expect(result).not.toHaveProperty('retryAfterMs')
  })

  it('UNAVAILABLE (not a throw) when the store cannot be read', async () => {
    class BrokenStore extends MemoryStore {
      broken = false
      override peek(id: string): StoredKey | null | undefined {
        return this.broken ? undefined : super.peek(id)
      }

      override async get(id: string): Promise<StoredKey | null> {
        if (this.broken) throw new Error('ECONNREFUSED')
        return super.get(id)
      }
    }
    const store = new BrokenStore()
    const { keyward } = setup({ store, unavailableRetryAfterMs: 2500 })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    store.broken = true
    expect(await keyward.verify(key)).toEqual({ valid: false, code: 'UNAVAILABLE', retryAfterMs: 2500 })
  })

  it('UNAVAILABLE when the store rejects a credit spend', async () => {
    class BrokenCredits extends MemoryStore {
      // No immediate answer: every charge goes through `charge`.
      override chargeNow(): undefined {
        return undefined
      }

      override async charge(request: ChargeRequest): Promise<ChargeResult> {
        if (request.credits !== null) throw new Error('timeout')
        return super.charge(request)
      }
    }
    const { keyward } = setup({ store: new BrokenCredits() })
    const { key } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 5 } })
    expect(await keyward.verify(key)).toEqual({ valid: false, code: 'UNAVAILABLE', retryAfterMs: 1000 })
  })

  it('UNAVAILABLE when the rate-limiter backend fails (an Error, not a limiter result)', async () => {
    class BrokenLimiter extends MemoryStore {
      override chargeNow(): undefined {
        return undefined
      }

      override async charge(request: ChargeRequest): Promise<ChargeResult> {
        if (request.limits.length > 0) throw new Error('redis down')
        return super.charge(request)
      }
    }
    const { keyward } = setup({ store: new BrokenLimiter(), rateLimit: { points: 5, duration: 1 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'UNAVAILABLE' })
  })

  it('UNAVAILABLE when the store throws answering a charge at once (`chargeNow`)', async () => {
    class BrokenImmediateCharge extends MemoryStore {
      override chargeNow(request: ChargeRequest): ChargeResult | undefined {
        if (request.limits.length > 0) throw new Error('counter corrupted')
        return super.chargeNow(request)
      }
    }
    const { keyward } = setup({ store: new BrokenImmediateCharge(), rateLimit: { points: 5, duration: 1 } })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect(await keyward.verify(key)).toEqual({ valid: false, code: 'UNAVAILABLE', retryAfterMs: 1000 })
  })
})

describe('verify: check order (docs/architecture.md, The path of a request)', () => {
  it('reports REVOKED, not INSUFFICIENT_SCOPE, for a revoked key lacking the scope', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', scopes: ['a'] })
    await keyward.keys.revoke(record.id)
    expect(await keyward.verify(key, { scopes: 'b' })).toMatchObject({ code: 'REVOKED' })
  })

  it('reports DISABLED before REVOKED before EXPIRED', async () => {
    const { keyward, clock } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(START + 10) })
    clock.advance(10)
    expect(await keyward.verify(key)).toMatchObject({ code: 'EXPIRED' })
    await keyward.keys.revoke(record.id)
    expect(await keyward.verify(key)).toMatchObject({ code: 'REVOKED' })
    await keyward.keys.update(record.id, { disabled: true })
    expect(await keyward.verify(key)).toMatchObject({ code: 'DISABLED' })
  })

  it('reports EXPIRED before WRONG_ENVIRONMENT, and WRONG_ENVIRONMENT before INSUFFICIENT_SCOPE', async () => {
    const { keyward, clock } = setup()
    const { key, record } = await keyward.keys.create({
      ownerId: 'o',
      environment: 'test',
      expiresAt: new Date(START + 10),
    })
    expect(await keyward.verify(key, { scopes: 'missing' })).toMatchObject({ code: 'WRONG_ENVIRONMENT' })
    clock.advance(10)
    expect(await keyward.verify(key, { scopes: 'missing' })).toMatchObject({ code: 'EXPIRED' })
    expect(record.environment).toBe('test')
  })

  it('checks scopes before rate limits: a scope failure spends no rate-limit point', async () => {
    const { keyward } = setup({ rateLimit: { points: 1, duration: 60 } })
    const { key } = await keyward.keys.create({ ownerId: 'o', scopes: ['a'] })
    for (let i = 0; i < 3; i++) {
      const result = await keyward.verify(key, { scopes: 'b' })
      expect(result).toMatchObject({ code: 'INSUFFICIENT_SCOPE' })
      expect(result).not.toHaveProperty('rateLimit')
    }
    expect((await keyward.verify(key, { scopes: 'a' })).valid).toBe(true)
    expect(await keyward.verify(key, { scopes: 'a' })).toMatchObject({ code: 'RATE_LIMITED' })
  })

  it('never spends credits on a rate-limited request', async () => {
    const { keyward } = setup({ rateLimit: { points: 1, duration: 60 } })
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 10 } })
    expect(await keyward.verify(key, { cost: 3 })).toMatchObject({ valid: true, credits: { remaining: 7 } })
    for (let i = 0; i < 5; i++) {
      const result = await keyward.verify(key, { cost: 3 })
      expect(result).toMatchObject({ code: 'RATE_LIMITED' })
      expect(result).not.toHaveProperty('credits')
    }
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(7)
  })

  it('spends credits only when every other check passed', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({
      ownerId: 'o',
      scopes: ['a'],
      credits: { remaining: 5 },
    })
    await keyward.verify(key, { scopes: 'b' }) // insufficient scope
    await keyward.verify(withOtherSecret(key)) // wrong secret
    // A last character that differs from the real one, whatever the key ends in: always malformed.
    const malformed = key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x')
    expect(await keyward.verify(malformed)).toEqual({ valid: false, code: 'MALFORMED' })
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(5)
    await keyward.keys.update(record.id, { disabled: true })
    await keyward.verify(key)
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(5)
    await keyward.keys.update(record.id, { disabled: false })
    expect(await keyward.verify(key, { scopes: 'a' })).toMatchObject({
      valid: true,
      credits: { remaining: 4 },
    })
  })
})

describe('verify: no store access for tokens that fail offline checks', () => {
  it('rejects a key whose checksum is wrong, without a store lookup', async () => {
    const { store, calls } = countingStore()
    const { keyward } = setup({ store })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    calls.length = 0
    const last = key.at(-1) === 'a' ? 'b' : 'a'
    expect(await keyward.verify(key.slice(0, -1) + last)).toEqual({ valid: false, code: 'MALFORMED' })
    // every single-char change in the secret too
    for (let i = key.length - 38; i < key.length - 6; i++) {
      const changed = key.slice(0, i) + (key[i] === '0' ? '1' : '0') + key.slice(i + 1)
      expect(await keyward.verify(changed)).toEqual({ valid: false, code: 'MALFORMED' })
    }
    expect(calls).toEqual([])
  })

  it('rejects malformed, over-long and wrong-prefix tokens without a store lookup', async () => {
    const { store, calls } = countingStore()
    const { keyward } = setup({ store })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    calls.length = 0
    const parsed = parseKey(key)!
    const tokens = [
      '',
      'garbage',
      `${key}x`,
      `x${key}`,
      key.toUpperCase(),
      'a'.repeat(1_000_000),
      formatKey('kw', 'live', parsed.id, parsed.secret), // right checksum, wrong prefix
      `${key.slice(0, 5)}prod${key.slice(9)}`,
    ]
    for (const token of tokens) {
      const result = await keyward.verify(token)
      expect(result.valid ? 'VALID' : result.code).toMatch(/^(MALFORMED|MISSING)$/)
    }
    expect(calls).toEqual([])
  })

  it('does look up a checksum-valid token exactly once (the counting store sees real calls)', async () => {
    const { store, calls } = countingStore()
    const { keyward } = setup({ store })
    calls.length = 0
    await keyward.verify(formatKey('acme', 'live', randomBase62(12), randomBase62(32)))
    // MemoryStore answers lookups synchronously through `peek`.
    expect(calls).toEqual(['peek'])
  })

  it('never touches the store for arbitrary strings that are not well-formed (property)', async () => {
    const { store, calls } = countingStore()
    const { keyward } = setup({ store })
    calls.length = 0
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), async (token) => {
        fc.pre(!isWellFormedKey(token, 'acme'))
        await keyward.verify(token)
      }),
      { numRuns: 500 },
    )
    expect(calls).toEqual([])
  })
})

describe('verify: property-based rejection of mistyped keys', () => {
  const printable = fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 })
  const unicode = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })
  const base62 = fc.constantFrom(...BASE62_ALPHABET.split(''))
  const replacement = fc.oneof(base62, printable, unicode, fc.constantFrom('_', '-', ' ', '\0', 'é', '𝟘'))

  async function realKeys() {
    const { keyward } = setup()
    const keys: string[] = []
    for (let i = 0; i < 5; i++) keys.push((await keyward.keys.create({ ownerId: `o${i}` })).key)
    for (const key of keys) expect((await keyward.verify(key)).valid).toBe(true)
    return { keyward, keys }
  }

  const expectMalformed = (result: VerifyResult) =>
    expect(result).toEqual({ valid: false, code: 'MALFORMED' })

  it('rejects every single-character substitution as MALFORMED (fast-check)', async () => {
    const { keyward, keys } = await realKeys()
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.nat(), replacement, async (key, rawPosition, char) => {
        const position = rawPosition % key.length
        fc.pre(char !== key[position])
        const mistyped = key.slice(0, position) + char + key.slice(position + 1)
        expect(isWellFormedKey(mistyped)).toBe(false)
        expect(isWellFormedKey(mistyped, 'acme')).toBe(false)
        expectMalformed(await keyward.verify(mistyped))
      }),
      { numRuns: 3000 },
    )
  })

  it('rejects every base62 substitution at every position of a key (exhaustive)', async () => {
    const { keyward, keys } = await realKeys()
    const key = keys[0] as string
    let tried = 0
    for (let position = 0; position < key.length; position++) {
      for (const char of BASE62_ALPHABET) {
        if (char === key[position]) continue
        const mistyped = key.slice(0, position) + char + key.slice(position + 1)
        if (isWellFormedKey(mistyped)) throw new Error(`accepted a substitution at ${position}: ${mistyped}`)
        tried++
      }
    }
    expect(tried).toBeGreaterThan(key.length * 60)
    // and via verify, a sample across the whole key
    for (let position = 0; position < key.length; position++) {
      const char = key[position] === 'Z' ? 'Y' : 'Z'
      expectMalformed(await keyward.verify(key.slice(0, position) + char + key.slice(position + 1)))
    }
  })

  it('rejects every transposition of two different adjacent characters as MALFORMED', async () => {
    const { keyward, keys } = await realKeys()
    let tried = 0
    for (const key of keys) {
      for (let i = 0; i + 1 < key.length; i++) {
        if (key[i] === key[i + 1]) continue
        const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2)
        expect(isWellFormedKey(swapped)).toBe(false)
        expectMalformed(await keyward.verify(swapped))
        tried++
      }
    }
    expect(tried).toBeGreaterThan(keys.length * 50)
  })

  it('rejects transpositions in generated keys of any prefix (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{2,12}$/),
        fc.constantFrom('live' as const, 'test' as const),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.nat(),
        (prefix, environment, bytes, rawPosition) => {
          const id = Array.from(bytes.subarray(0, 12), (b) => BASE62_ALPHABET[b % 62]).join('')
          const secret = Array.from(bytes.subarray(12, 44), (b) => BASE62_ALPHABET[b % 62]).join('')
          const key = formatKey(prefix, environment, id, secret)
          expect(isWellFormedKey(key, prefix)).toBe(true)
          const i = rawPosition % (key.length - 1)
          fc.pre(key[i] !== key[i + 1])
          const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2)
          expect(isWellFormedKey(swapped)).toBe(false)
        },
      ),
      { numRuns: 5000 },
    )
  })
})

describe('verify: arbitrary input never throws', () => {
  const almostKey = fc
    .tuple(
      fc.constantFrom('acme', 'acm', 'acmee', 'kw', 'ACME', ''),
      fc.constantFrom('_', '-', '', '__'),
      fc.constantFrom('live', 'test', 'prod', 'LIVE', 'liv'),
      fc.constantFrom('_', '-', ''),
      fc.stringMatching(/^[0-9A-Za-z]{10,14}$/),
      fc.constantFrom('_', '', '.'),
      fc.stringMatching(/^[0-9A-Za-z]{30,40}$/),
      fc.boolean(),
    )
    .map(([prefix, s1, env, s2, id, s3, rest, withCrc]) => {
      const body = `${prefix}${s1}${env}${s2}${id}${s3}${rest}`
      return withCrc ? formatKeyLike(body) : body
    })

  function formatKeyLike(body: string): string {
    // Append a correct checksum to whatever body: some of these are then well-formed.
    const parsed = /^(.*)_(live|test)_(.{12})_(.{32})$/.exec(body)
    if (parsed !== null) {
      return formatKey(parsed[1] as string, parsed[2] as 'live', parsed[3] as string, parsed[4] as string)
    }
    return body
  }

  it('gives MALFORMED or MISSING for any string that is not a well-formed key, and never throws', async () => {
    const { keyward } = setup()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.string({ unit: 'binary', minLength: 60, maxLength: 80 }),
          almostKey,
        ),
        async (token) => {
          const result = await keyward.verify(token)
          expect(result.valid).toBe(false)
          if (token === '') expect(result).toEqual({ valid: false, code: 'MISSING' })
          else if (isWellFormedKey(token, 'acme')) expect(result).toEqual({ valid: false, code: 'NOT_FOUND' })
          else expect(result).toEqual({ valid: false, code: 'MALFORMED' })
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('rejects huge strings as MALFORMED, quickly', async () => {
    const { store, calls } = countingStore()
    const { keyward } = setup({ store })
    const huge = [
      `acme_live_${'a'.repeat(10_000_000)}`,
      '\u{1F600}'.repeat(1_000_000),
      '\0'.repeat(1_000_000),
      'acme_live_gn4A6m8CKdow_R7JVUKlwW5JjyWSlUqp68EHAhDVOeD2b3lFhBh'.repeat(10_000),
    ]
    const started = performance.now()
    for (const token of huge) expect(await keyward.verify(token)).toEqual({ valid: false, code: 'MALFORMED' })
    expect(performance.now() - started).toBeLessThan(1000)
    expect(calls).toEqual([])
  })
})

describe('verify: options', () => {
  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'answers cost %s with INVALID_REQUEST (never a throw) before any store access',
    async (cost) => {
      const { store, calls } = countingStore()
      const { keyward } = setup({ store, rateLimit: { points: 1, duration: 60 } })
      const { key } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 5 } })
      calls.length = 0
      expect(await keyward.verify(key, { cost })).toEqual({
        valid: false,
        code: 'INVALID_REQUEST',
        field: 'cost',
      })
      expect(calls).toEqual([])
      // the rejected calls spent no rate-limit point
      expect((await keyward.verify(key)).valid).toBe(true)
    },
  )

  it('accepts cost 0: a keyed request with credits that spends none', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 0 } })
    expect(await keyward.verify(key, { cost: 0 })).toMatchObject({ valid: true, credits: { remaining: 0 } })
    expect(await keyward.verify(key)).toMatchObject({ code: 'QUOTA_EXCEEDED' })
  })

  it('ignores cost for keys without credits (unlimited)', async () => {
    const { keyward } = setup()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const result = await keyward.verify(key, { cost: 1000 })
    expect(result.valid).toBe(true)
    expect(result).not.toHaveProperty('credits')
  })
})

describe('VerifiedKey', () => {
  it('holds no secret, hash or pepper version, and does not contain the token', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({
      ownerId: 'o',
      meta: { plan: 'pro' },
      expiresAt: new Date(START + 1e6),
    })
    const result = await keyward.verify(key)
    if (!result.valid) throw new Error('expected a valid key')
    expect(Object.keys(result.key).sort()).toEqual(
      ['environment', 'expiresAt', 'id', 'meta', 'name', 'ownerId', 'scopes'].sort(),
    )
    const json = JSON.stringify(result)
    const stored = await keyward.store.get(record.id)
    expect(json).not.toContain(key)
    expect(json).not.toContain(parseKey(key)?.secret)
    expect(json).not.toContain(stored?.hash)
    expect(result.key.expiresAt).toEqual(new Date(START + 1e6))
    expect(result.key.meta).toEqual({ plan: 'pro' })
  })

  it("is shared by requests for the same key, so one request's handler cannot change what the next one sees", async () => {
    const { keyward } = setup()
    const expiresAt = new Date(START + 1e9)
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      expiresAt,
      meta: { tags: ['a'], nested: { x: 1 } },
    })
    const first = await keyward.verify(key)
    if (!first.valid) throw new Error('expected a valid key')
    const meta = first.key.meta as { tags: string[]; nested: { x: number } }
    expect(() => meta.tags.push('b')).toThrow(TypeError)
    expect(() => {
      meta.nested.x = 2
    }).toThrow(TypeError)
    first.key.expiresAt?.setTime(0)
    const second = await keyward.verify(key)
    if (!second.valid) throw new Error('expected a valid key')
    expect(second.key.meta).toEqual({ tags: ['a'], nested: { x: 1 } })
    expect(second.key.expiresAt).toEqual(expiresAt)
    expect(JSON.parse(JSON.stringify(second.key)).expiresAt).toBe(expiresAt.toISOString())
  })

  it('cannot be used to change the stored record', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', scopes: ['a'], meta: { plan: 'pro' } })
    const result = await keyward.verify(key)
    if (!result.valid) throw new Error('expected a valid key')
    expect(() => (result.key.scopes as string[]).push('admin')).toThrow()
    expect(() => {
      ;(result.key.meta as Record<string, unknown>).plan = 'free'
    }).toThrow()
    expect((await keyward.keys.get(record.id))?.scopes).toEqual(['a'])
    expect(await keyward.verify(key, { scopes: 'admin' })).toMatchObject({ code: 'INSUFFICIENT_SCOPE' })
  })
})
