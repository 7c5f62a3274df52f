import { describe, expect, it, vi } from 'vitest'
import { ConfigError } from '../errors.ts'
import type { VerificationEvent } from '../events.ts'
import type { BruteForceOptions } from '../guard/options.ts'
import { createKeyward } from '../index.ts'
import { createAuthenticator, createScopeCheck } from './authenticator.ts'
import type { HttpRequestView } from './extract-key.ts'

function setup(
  options: Parameters<typeof createAuthenticator>[1] = {},
  bruteForce?: BruteForceOptions | false,
) {
  let time = 1_700_000_000_000
  const keyward = createKeyward({ now: () => time, ...(bruteForce === undefined ? {} : { bruteForce }) })
  const verify = vi.spyOn(keyward, 'verify')
  const authenticator = createAuthenticator(keyward, options)
  const advance = (ms: number) => {
    time += ms
  }
  return { keyward, verify, authenticator, advance }
}

const view = (
  headers: Record<string, string>,
  clientAddress: string | undefined = '10.0.0.1',
): HttpRequestView => ({
  getHeader: (name) => headers[name],
  getQuery: () => undefined,
  clientAddress,
})

describe('createAuthenticator', () => {
  it('verifies a Bearer key and returns the key with its RateLimit headers', async () => {
    const { keyward, authenticator } = setup()
    const { key, record } = await keyward.keys.create({
      ownerId: 'o',
      rateLimit: { points: 5, duration: 60 },
    })
    const outcome = await authenticator.authenticate(view({ authorization: `Bearer ${key}` }))
    expect(outcome.ok).toBe(true)
    if (!outcome.ok) return
    expect(outcome.key.id).toBe(record.id)
    expect(outcome.headers.RateLimit).toMatch(/^"5-per-60s";r=4;t=60$/)
  })

  it.each([
    ['an ordinary', () => ({})],
    ['a frozen', () => Object.freeze({})],
    ['a sealed', () => Object.seal({})],
  ])('verifies a request once per framework object, %s one included', async (_, makeContext) => {
    const { keyward, authenticator, verify } = setup()
    const inner = createAuthenticator(keyward, { scopes: 'b' })
    const { key } = await keyward.keys.create({ ownerId: 'o', scopes: ['a'] })
    const context = makeContext()
    const request = { ...view({ authorization: `Bearer ${key}` }), context }
    expect((await authenticator.authenticate(request)).ok).toBe(true)
    // The nested authenticator checks its own scopes on the request already verified.
    expect(await inner.authenticate(request)).toMatchObject({
      ok: false,
      result: { code: 'INSUFFICIENT_SCOPE' },
    })
    expect(verify).toHaveBeenCalledTimes(1)
    // Another request (another object) is verified afresh.
    expect((await authenticator.authenticate({ ...request, context: makeContext() })).ok).toBe(true)
    expect(verify).toHaveBeenCalledTimes(2)
  })

  it('answers a key on an in-memory store at once, with no promise, as authenticate does', async () => {
    const keyward = createKeyward({ rateLimit: { points: 5, duration: 60 } })
    const authenticator = createAuthenticator(keyward, { scopes: 'orders:read' })
    const { key } = await keyward.keys.create({
      ownerId: 'o',
      scopes: ['orders:read'],
      credits: { remaining: 3 },
    })
    const now = authenticator.authenticateNow(view({ authorization: `Bearer ${key}` }))
    expect(now).not.toBeInstanceOf(Promise)
    expect(now).toMatchObject({ ok: true, result: { credits: { remaining: 2 } } })
    expect((now as { headers: Record<string, string> }).headers.RateLimit).toMatch(/;r=4;/)
    const later = await authenticator.authenticate(view({ authorization: `Bearer ${key}` }))
    expect(later).toMatchObject({ ok: true, result: { credits: { remaining: 1 } } })
    // Refusals too: a token that fails its checksum, and a used-up pool.
    const broken = `${key.slice(0, -8)}AAAAAAAA`
    expect(authenticator.authenticateNow(view({ authorization: `Bearer ${broken}` }))).toMatchObject({
      ok: false,
      result: { code: 'MALFORMED' },
    })
    authenticator.authenticateNow(view({ authorization: `Bearer ${key}` }))
    expect(authenticator.authenticateNow(view({ authorization: `Bearer ${key}` }))).toMatchObject({
      ok: false,
      result: { code: 'QUOTA_EXCEEDED' },
    })
  })

  it('goes through keyward.verify while a wrapper is attached, so metrics and tracing see every request', async () => {
    const keyward = createKeyward()
    const authenticator = createAuthenticator(keyward)
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const seen: string[] = []
    const unwrap = keyward.wrapVerify((next) => (token, options) => {
      seen.push('wrapped')
      return next(token, options)
    })
    const wrapped = authenticator.authenticateNow(view({ authorization: `Bearer ${key}` }))
    expect(wrapped).toBeInstanceOf(Promise)
    expect(await wrapped).toMatchObject({ ok: true })
    expect(seen).toEqual(['wrapped'])
    unwrap()
    expect(authenticator.authenticateNow(view({ authorization: `Bearer ${key}` }))).toMatchObject({
      ok: true,
    })
    expect(seen).toEqual(['wrapped'])
  })

  it('passes the configured scopes and cost to verify', async () => {
    const { keyward, authenticator, verify } = setup({ scopes: { anyOf: ['a', 'b'] }, cost: 3 })
    const { key } = await keyward.keys.create({ ownerId: 'o', scopes: ['b'], credits: { remaining: 5 } })
    const outcome = await authenticator.authenticate(view({ 'x-api-key': key }))
    expect(outcome.ok).toBe(true)
    expect(verify).toHaveBeenCalledWith(key, {
      scopes: { anyOf: ['a', 'b'] },
      cost: 3,
      clientAddress: '10.0.0.1',
    })
    const second = await authenticator.authenticate(view({ 'x-api-key': key }))
    expect(second.ok ? null : second.result.code).toBe('QUOTA_EXCEEDED')
  })

  it('rejects malformed input without calling verify, and never echoes the token', async () => {
    const { authenticator, verify } = setup()
    const token = `kw_live_${'x'.repeat(600)}`
    const outcome = await authenticator.authenticate(view({ 'x-api-key': token }))
    expect(outcome.ok).toBe(false)
    if (outcome.ok) return
    expect(outcome.result.code).toBe('MALFORMED')
    expect(outcome.response.status).toBe(401)
    expect(JSON.stringify(outcome.response)).not.toContain('xxxxxxxx')
    expect(verify).not.toHaveBeenCalled()
  })

  it('answers 401 MISSING without a key', async () => {
    const { authenticator, verify } = setup()
    const outcome = await authenticator.authenticate(view({}))
    expect(outcome.ok ? 200 : outcome.response.status).toBe(401)
    expect(verify).not.toHaveBeenCalled()
  })

  it('reports requests rejected before verify as verification events, without the value', async () => {
    const { keyward, authenticator, verify } = setup()
    const events: VerificationEvent[] = []
    keyward.events.on('verification', (event) => events.push(event))
    const garbage = `kw_live_${'y'.repeat(600)}`
    await authenticator.authenticate(view({}))
    await authenticator.authenticate(view({ 'x-api-key': garbage }))
    expect(verify).not.toHaveBeenCalled()
    expect(events.map((event) => [event.code, event.valid, event.keyId, event.cost])).toEqual([
      ['MISSING', false, null, 0],
      ['MALFORMED', false, null, 0],
    ])
    expect(events.every((event) => event.timestamp === keyward.now())).toBe(true)
    expect(JSON.stringify(events)).not.toContain('yyyy')
  })

  it('blocks an address after `points` failed attempts, before any key lookup, until blockDuration passes', async () => {
    const { keyward, authenticator, verify, advance } = setup(
      {},
      { points: 3, duration: 60, blockDuration: 30 },
    )
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`
    for (let i = 0; i < 3; i++) {
      const outcome = await authenticator.authenticate(view({ 'x-api-key': wrong }))
      expect(outcome.ok ? 200 : outcome.response.status).toBe(401)
    }
    verify.mockClear()
    const blocked = await authenticator.authenticate(view({ 'x-api-key': key }))
    expect(blocked.ok).toBe(false)
    if (blocked.ok) return
    expect(blocked.response.status).toBe(429)
    expect(blocked.response.body?.code).toBe('TOO_MANY_FAILED_ATTEMPTS')
    expect(blocked.response.headers['Retry-After']).toBe('30')
    expect(verify).not.toHaveBeenCalled()
    // Other addresses are not affected.
    expect((await authenticator.authenticate(view({ 'x-api-key': key }, '10.0.0.2'))).ok).toBe(true)
    advance(30_001)
    expect((await authenticator.authenticate(view({ 'x-api-key': key }))).ok).toBe(true)
  })

  it('does not count missing keys, scope failures or successes as failed attempts', async () => {
    const { keyward, authenticator } = setup(
      { scopes: 'admin' },
      { points: 2, duration: 60, blockDuration: 30 },
    )
    const { key } = await keyward.keys.create({ ownerId: 'o', scopes: ['read'] })
    for (let i = 0; i < 5; i++) {
      const outcome = await authenticator.authenticate(view(i % 2 === 0 ? {} : { 'x-api-key': key }))
      expect(outcome.ok ? 200 : outcome.response.status).not.toBe(429)
    }
  })

  it('can turn the guard off', async () => {
    const { authenticator } = setup({ bruteForce: false })
    for (let i = 0; i < 30; i++) {
      const outcome = await authenticator.authenticate(view({ 'x-api-key': 'nope' }))
      expect(outcome.ok ? 200 : outcome.response.status).toBe(401)
    }
  })

  it('validates its options at construction', () => {
    const keyward = createKeyward()
    const bad: unknown[] = [
      { realm: 'has "quotes"' },
      { realm: '' },
      { headers: ['bad header'] },
      { headers: 'x-api-key' },
      { headers: [] },
      { query: 'a b' },
      { scopes: 'has space' },
      { scopes: { oneOf: ['a'] } },
      { cost: -1 },
      { cost: 1.5 },
      { bruteForce: { points: 3 } },
      { bruteForce: true },
    ]
    for (const options of bad) {
      expect(() => createAuthenticator(keyward, options as never), JSON.stringify(options)).toThrow(
        ConfigError,
      )
    }
    expect(() => createAuthenticator({} as never)).toThrow(ConfigError)
    expect(() => createAuthenticator(keyward, { headers: [], query: 'api_key' })).not.toThrow()
  })
})

describe('createScopeCheck', () => {
  const key = {
    id: 'abcdefghijkl',
    ownerId: 'o',
    name: null,
    environment: 'live' as const,
    scopes: ['orders:*'],
    expiresAt: null,
    meta: {},
  }

  it('answers 401 when no key was verified, 403 when scopes are missing, null when satisfied', () => {
    const check = createScopeCheck({ anyOf: ['admin', 'billing:read'] }, { realm: 'r' })
    expect(check(undefined)?.response.status).toBe(401)
    expect(check(undefined)?.response.headers['WWW-Authenticate']).toBe('Bearer realm="r"')
    const denied = check(key)
    expect(denied?.response.status).toBe(403)
    expect(denied?.response.headers['WWW-Authenticate']).toBe(
      'Bearer realm="r", error="insufficient_scope", scope="admin billing:read"',
    )
    expect(createScopeCheck('orders:write')(key)).toBeNull()
  })

  it('throws ConfigError for an invalid requirement', () => {
    expect(() => createScopeCheck('bad scope')).toThrow(ConfigError)
    expect(() => createScopeCheck(42 as never)).toThrow(ConfigError)
  })
})
