/**
 * The adapter conformance suite: ONE table of HTTP cases, each sent over real HTTP (supertest
 * against a listening server) to the Express, Hono and Koa adapters, with the same assertions for
 * all three, plus a check that the three answers are identical (status, every keyward header,
 * body byte for byte). `runConformance(name, makeKeyward)` runs it against any store: the
 * factory receives the suite's options and adds its store (MemoryStore, RedisStore, …).
 */
import type { Server } from 'node:http'
import { connect } from 'node:net'
import {
  createKeyward,
  type KeyStore,
  type Keyward,
  type KeywardOptions,
  MemoryStore,
  StoreError,
} from '@keyward/core'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import fc from 'fast-check'
import { parseList } from 'structured-headers'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ADAPTERS, type AdapterName, close, listen, type RouteSpec } from './adapters.ts'

/** Builds the keyward under test from the suite's options; add a `store` (and `secret`). */
export type MakeKeyward = (options: KeywardOptions) => Keyward | Promise<Keyward>

const PREFIX = 'conf'
const REALM = 'conformance'
/** Headers whose values must be identical across adapters. */
const COMPARED_HEADERS = [
  'www-authenticate',
  'content-type',
  'cache-control',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
] as const

interface Observed {
  status: number
  headers: Record<string, string | undefined>
  text: string
  rawHeaders: string
}

interface CaseContext {
  keyward: Keyward
  adapter: AdapterName
  url: string
  /** Sends GET `path` with `headers` to this adapter's server. */
  get(path: string, headers?: Record<string, string | string[]>): Promise<Observed>
  /** Creates a key; `scopes` default to `['orders:read']`. */
  createKey(
    input?: Parameters<Keyward['keys']['create']>[0] | Partial<Parameters<Keyward['keys']['create']>[0]>,
  ): Promise<string>
}

interface ConformanceCase {
  name: string
  /** Tokens sent in this case: none may appear in any response header or body. */
  run(context: CaseContext): Promise<{ response: Observed; tokens: string[] }>
  expect(response: Observed): void
}

function observe(response: request.Response): Observed {
  const headers: Record<string, string | undefined> = {}
  for (const name of COMPARED_HEADERS) {
    const value = response.headers[name] as string | string[] | undefined
    headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return {
    status: response.status,
    headers,
    text: response.text,
    rawHeaders: JSON.stringify(response.headers),
  }
}

function problem(response: Observed): Record<string, unknown> {
  expect(response.headers['content-type']).toBe('application/problem+json')
  expect(response.headers['cache-control']).toBe('no-store')
  const body = JSON.parse(response.text) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type'])
  expect(body.status).toBe(response.status)
  return body
}

function expectInvalidToken(response: Observed, code: string, type: string): void {
  expect(response.status).toBe(401)
  expect(response.headers['www-authenticate']).toMatch(
    new RegExp(`^Bearer realm="${REALM}", error="invalid_token", error_description="[^"]+"$`),
  )
  expect(response.headers['retry-after']).toBeUndefined()
  const body = problem(response)
  expect(body.code).toBe(code)
  expect(body.type).toBe(`https://keyward.dev/problems/${type}`)
}

function expectMissing(response: Observed): void {
  expect(response.status).toBe(401)
  expect(response.headers['www-authenticate']).toBe(`Bearer realm="${REALM}"`)
  const body = problem(response)
  expect(body.code).toBe('MISSING')
  expect(body.type).toBe('https://keyward.dev/problems/missing-key')
}

function expectSuccess(response: Observed): { keyId: string | null } {
  expect(response.status).toBe(200)
  expect(response.headers['www-authenticate']).toBeUndefined()
  return JSON.parse(response.text) as { keyId: string | null }
}

/** Parses `RateLimit-Policy` and `RateLimit` with a structured-fields parser, not a regex. */
function rateLimitHeaders(response: Observed) {
  const policy = parseList(response.headers['ratelimit-policy'] ?? '')
  const state = parseList(response.headers.ratelimit ?? '')
  return {
    policies: policy.map(([name, params]) => ({ name, q: params.get('q'), w: params.get('w') })),
    states: state.map(([name, params]) => ({ name, r: params.get('r'), t: params.get('t') })),
  }
}

/** A different key with the same id (known id, wrong secret). */
function withOtherSecret(key: string): string {
  const parts = key.split('_')
  return formatKey(PREFIX, parts[1] as 'live', parts[2] as string, randomBase62(32))
}

function withBadChecksum(key: string): string {
  const last = key.at(-1)
  return key.slice(0, -1) + (last === 'A' ? 'B' : 'A')
}

/**
 * Sends with spies on the store's lookups (`get`, and `peek` where the store has it), restored in
 * `finally` so one failing case cannot cascade. Returns the response and the number of lookups.
 */
async function lookupsDuring(t: CaseContext, send: () => Promise<Observed>): Promise<[Observed, number]> {
  const store = t.keyward.store
  const get = vi.spyOn(store, 'get')
  const peek = store.peek === undefined ? null : vi.spyOn(store as Required<typeof store>, 'peek')
  try {
    const response = await send()
    // A lookup answered by `peek` is one lookup; one that `peek` passed on to `get` is one too.
    const peeked = peek?.mock.results.filter((result) => result.value !== undefined).length ?? 0
    return [response, get.mock.calls.length + peeked]
  } finally {
    get.mockRestore()
    peek?.mockRestore()
  }
}

const CASES: ConformanceCase[] = [
  {
    name: 'no key → 401 with a bare Bearer challenge',
    run: async (t) => ({ response: await t.get('/plain'), tokens: [] }),
    expect: expectMissing,
  },
  {
    name: 'Authorization: Bearer <key> → 200 with RateLimit headers',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(expectSuccess(response).keyId).toMatch(/^[0-9A-Za-z]{12}$/)
      expect(rateLimitHeaders(response)).toEqual({
        policies: [{ name: 'default', q: 100, w: 60 }],
        states: [{ name: 'default', r: 99, t: 60 }],
      })
      expect(response.headers['cache-control']).toBeUndefined()
    },
  },
  {
    name: 'lower-case "bearer" scheme → 200',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/plain', { Authorization: `bearer ${key}` }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'X-API-Key → 200',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/plain', { 'X-API-Key': key }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'whitespace around and inside the Bearer credential is trimmed → 200',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/plain', { Authorization: `Bearer  \t  ${key} \t` }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'empty X-API-Key → 401 missing',
    run: async (t) => ({ response: await t.get('/plain', { 'X-API-Key': '' }), tokens: [] }),
    expect: expectMissing,
  },
  {
    name: 'empty Bearer credential → 401 missing',
    run: async (t) => ({ response: await t.get('/plain', { Authorization: 'Bearer ' }), tokens: [] }),
    expect: expectMissing,
  },
  {
    name: 'X-API-Key sent twice → 401 invalid_token (MALFORMED)',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/plain', { 'X-API-Key': [key, key] }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'Authorization sent twice → 401 invalid_token (MALFORMED), though Node keeps only the first',
    async run(t) {
      const key = await t.createKey()
      return {
        response: await t.get('/plain', { Authorization: [`Bearer ${key}`, `Bearer ${key}`] }),
        tokens: [key],
      }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'two different keys in Authorization and X-API-Key → 401 invalid_token (MALFORMED)',
    async run(t) {
      const first = await t.createKey()
      const second = await t.createKey()
      return {
        response: await t.get('/plain', { Authorization: `Bearer ${first}`, 'X-API-Key': second }),
        tokens: [first, second],
      }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'an 8 KB header → 401 invalid_token (MALFORMED), no store lookup',
    async run(t) {
      const token = `${PREFIX}_live_${'A'.repeat(8192)}`
      const [response, lookups] = await lookupsDuring(t, () => t.get('/plain', { 'X-API-Key': token }))
      expect(lookups).toBe(0)
      return { response, tokens: [token] }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'non-ASCII bytes in the key → 401 invalid_token (MALFORMED)',
    async run(t) {
      const key = await t.createKey()
      // Header bytes arrive as latin1: send the UTF-8 bytes of "é🔑" that way.
      const token = key.slice(0, 20) + Buffer.from('é🔑').toString('latin1') + key.slice(20)
      return { response: await t.get('/plain', { 'X-API-Key': token }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'a control byte (tab) inside the key → 401 invalid_token (MALFORMED)',
    async run(t) {
      const key = await t.createKey()
      const token = `${key.slice(0, 20)}\t${key.slice(20)}`
      return { response: await t.get('/plain', { 'X-API-Key': token }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'a bad checksum → 401 invalid_token (MALFORMED), no store lookup',
    async run(t) {
      const key = withBadChecksum(await t.createKey())
      const [response, lookups] = await lookupsDuring(t, () =>
        t.get('/plain', { Authorization: `Bearer ${key}` }),
      )
      expect(lookups).toBe(0)
      return { response, tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'MALFORMED', 'invalid-key'),
  },
  {
    name: 'an unknown id → 401 invalid_token (NOT_FOUND)',
    async run(t) {
      const key = formatKey(PREFIX, 'live', randomBase62(12), randomBase62(32))
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'NOT_FOUND', 'invalid-key'),
  },
  {
    name: 'a known id with a wrong secret → the same 401 as an unknown id (NOT_FOUND)',
    async run(t) {
      const key = withOtherSecret(await t.createKey())
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expectInvalidToken(response, 'NOT_FOUND', 'invalid-key')
      expect(JSON.parse(response.text).detail).toBe('The API key is not valid.')
    },
  },
  {
    name: 'a revoked key → 401 invalid_token (REVOKED)',
    async run(t) {
      const key = await t.createKey()
      await t.keyward.keys.revoke(key.split('_')[2] as string)
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'REVOKED', 'revoked-key'),
  },
  {
    name: 'an expired key → 401 invalid_token (EXPIRED)',
    async run(t) {
      const key = await t.createKey({ expiresAt: new Date(t.keyward.now() - 1000) })
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'EXPIRED', 'expired-key'),
  },
  {
    name: 'a disabled key → 401 invalid_token (DISABLED)',
    async run(t) {
      const key = await t.createKey()
      await t.keyward.keys.update(key.split('_')[2] as string, { disabled: true })
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'DISABLED', 'disabled-key'),
  },
  {
    name: 'a test key on a live server → 401 invalid_token (WRONG_ENVIRONMENT)',
    async run(t) {
      const key = await t.createKey({ environment: 'test' })
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: (response) => expectInvalidToken(response, 'WRONG_ENVIRONMENT', 'wrong-environment'),
  },
  {
    name: 'a key used from outside its allowedNetworks → 403 forbidden-network, no challenge',
    async run(t) {
      const key = await t.createKey({ allowedNetworks: ['203.0.113.0/24', '2001:db8::/32'] })
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(403)
      expect(response.headers['www-authenticate']).toBeUndefined()
      const body = problem(response)
      expect(body.code).toBe('FORBIDDEN_NETWORK')
      expect(body.type).toBe('https://keyward.dev/problems/forbidden-network')
    },
  },
  {
    name: 'a key used from inside its allowedNetworks (loopback, IPv4-mapped on some stacks) → 200',
    async run(t) {
      const key = await t.createKey({ allowedNetworks: ['127.0.0.0/8', '::1/128'] })
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'Authorization with another scheme (a bare key) → 401 with a bare challenge, naming the accepted ways',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/plain', { Authorization: key }), tokens: [key] }
    },
    expect(response) {
      expectMissing(response)
      const body = problem(response)
      expect(body.detail).toBe(
        'The Authorization header does not use the Bearer scheme; send the API key as `Authorization: Bearer <key>` or the `X-API-Key` header.',
      )
    },
  },
  {
    name: 'a missing scope → 403 insufficient_scope naming it',
    async run(t) {
      const key = await t.createKey({ scopes: ['orders:read'] })
      return { response: await t.get('/scoped', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(403)
      expect(response.headers['www-authenticate']).toBe(
        `Bearer realm="${REALM}", error="insufficient_scope", scope="orders:write"`,
      )
      const body = problem(response)
      expect(body.code).toBe('INSUFFICIENT_SCOPE')
      expect(body.type).toBe('https://keyward.dev/problems/insufficient-scope')
    },
  },
  {
    name: 'a granted wildcard scope satisfies the route → 200',
    async run(t) {
      const key = await t.createKey({ scopes: ['orders:*'] })
      return { response: await t.get('/scoped', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: '{ anyOf } scopes: one alternative is enough → 200',
    async run(t) {
      const key = await t.createKey({ scopes: ['reports:read'] })
      return { response: await t.get('/any', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: '{ anyOf } scopes: none held → 403 naming every alternative',
    async run(t) {
      const key = await t.createKey({ scopes: ['orders:read'] })
      return { response: await t.get('/any', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(403)
      expect(response.headers['www-authenticate']).toBe(
        `Bearer realm="${REALM}", error="insufficient_scope", scope="admin reports:read"`,
      )
      expect(problem(response).code).toBe('INSUFFICIENT_SCOPE')
    },
  },
  {
    name: 'over the rate limit → 429 with Retry-After, RateLimit-Policy and RateLimit',
    async run(t) {
      const key = await t.createKey({ rateLimit: { points: 2, duration: 30 } })
      for (let i = 0; i < 2; i++) {
        const ok = await t.get('/plain', { Authorization: `Bearer ${key}` })
        expect(ok.status).toBe(200)
        expect(rateLimitHeaders(ok).states).toEqual([{ name: '2-per-30s', r: 1 - i, t: 30 }])
      }
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(429)
      const retryAfter = Number(response.headers['retry-after'])
      expect(retryAfter).toBeGreaterThanOrEqual(29)
      expect(retryAfter).toBeLessThanOrEqual(30)
      const { policies, states } = rateLimitHeaders(response)
      expect(policies).toEqual([{ name: '2-per-30s', q: 2, w: 30 }])
      expect(states).toEqual([{ name: '2-per-30s', r: 0, t: retryAfter }])
      const body = problem(response)
      expect(body.code).toBe('RATE_LIMITED')
      expect(body.type).toBe('https://keyward.dev/problems/rate-limited')
    },
  },
  {
    name: 'several policies → one RateLimit list member per policy',
    async run(t) {
      const key = await t.createKey({
        rateLimit: [
          { name: 'burst', points: 5, duration: 1 },
          { name: 'hourly', points: 1000, duration: 3600 },
        ],
      })
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expectSuccess(response)
      expect(rateLimitHeaders(response)).toEqual({
        policies: [
          { name: 'burst', q: 5, w: 1 },
          { name: 'hourly', q: 1000, w: 3600 },
        ],
        states: [
          { name: 'burst', r: 4, t: 1 },
          { name: 'hourly', r: 999, t: 3600 },
        ],
      })
    },
  },
  {
    name: 'credits used up → 429 quota-exceeded without Retry-After (no refill)',
    async run(t) {
      const key = await t.createKey({ credits: { remaining: 1 } })
      expect((await t.get('/plain', { Authorization: `Bearer ${key}` })).status).toBe(200)
      return { response: await t.get('/plain', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(429)
      expect(response.headers['retry-after']).toBeUndefined()
      const body = problem(response)
      expect(body.code).toBe('QUOTA_EXCEEDED')
      expect(body.type).toBe('https://keyward.dev/problems/quota-exceeded')
    },
  },
  {
    name: 'credits used up with a refill → 429 quota-exceeded with Retry-After',
    async run(t) {
      const key = await t.createKey({ credits: { remaining: 3, refill: { amount: 3, interval: 60_000 } } })
      // The route costs 2: the first request leaves 1, the second cannot be paid.
      expect((await t.get('/cost', { Authorization: `Bearer ${key}` })).status).toBe(200)
      return { response: await t.get('/cost', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(429)
      expect(response.headers['retry-after']).toBe('60')
      expect(problem(response).code).toBe('QUOTA_EXCEEDED')
    },
  },
  {
    name: 'brute-force guard: after 3 failed attempts the address gets 429, even with a valid key, without a lookup',
    async run(t) {
      // The guard is the keyward's, shared by the three adapters: start each from a clean slate.
      for (const block of await t.keyward.guard.blocks()) await t.keyward.guard.unblock(block.network)
      const valid = await t.createKey()
      const tokens = [valid]
      for (let i = 0; i < 3; i++) {
        const wrong = withOtherSecret(valid)
        tokens.push(wrong)
        const failed = await t.get('/guarded', { Authorization: `Bearer ${wrong}` })
        expect(failed.status).toBe(401)
      }
      const [response, lookups] = await lookupsDuring(t, () =>
        t.get('/guarded', { Authorization: `Bearer ${valid}` }),
      )
      expect(lookups).toBe(0)
      // A route that opts out of the guard (`bruteForce: false`) still answers.
      expect((await t.get('/plain', { Authorization: `Bearer ${valid}` })).status).toBe(200)
      return { response, tokens }
    },
    expect(response) {
      expect(response.status).toBe(429)
      expect(response.headers['retry-after']).toBe('60')
      expect(response.headers['www-authenticate']).toBeUndefined()
      const body = problem(response)
      expect(body.code).toBe('TOO_MANY_FAILED_ATTEMPTS')
      expect(body.type).toBe('https://keyward.dev/problems/too-many-failed-attempts')
    },
  },
  {
    name: 'requireScopes after apiKeyAuth: scope held → 200',
    async run(t) {
      const key = await t.createKey({ scopes: ['orders:write'] })
      return { response: await t.get('/require', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'requireScopes after apiKeyAuth: scope lacking → 403, no store lookup by requireScopes',
    async run(t) {
      const key = await t.createKey({ scopes: ['orders:read'] })
      const [response, lookups] = await lookupsDuring(t, () =>
        t.get('/require', { Authorization: `Bearer ${key}` }),
      )
      // One lookup: apiKeyAuth's. requireScopes adds none.
      expect(lookups).toBeLessThanOrEqual(1)
      return { response, tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(403)
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="insufficient_scope", scope="orders:write"',
      )
      expect(problem(response).code).toBe('INSUFFICIENT_SCOPE')
    },
  },
  {
    name: 'requireScopes without apiKeyAuth → 401 even with a valid key, and no store lookup',
    async run(t) {
      const key = await t.createKey({ scopes: ['orders:write'] })
      const [response, lookups] = await lookupsDuring(t, () =>
        t.get('/require-only', { Authorization: `Bearer ${key}` }),
      )
      expect(lookups).toBe(0)
      return { response, tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Bearer realm="api"')
      expect(problem(response).code).toBe('MISSING')
    },
  },
  {
    name: 'onRejected sends the custom response',
    async run(t) {
      const key = withOtherSecret(await t.createKey())
      return { response: await t.get('/custom', { 'X-API-Key': key }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(418)
      expect(JSON.parse(response.text)).toEqual({ custom: true, code: 'NOT_FOUND' })
    },
  },
  {
    name: 'skip(request) lets a request through without a key',
    run: async (t) => ({ response: await t.get('/skip', { 'X-Skip': 'yes' }), tokens: [] }),
    expect(response) {
      expect(expectSuccess(response)).toEqual({ keyId: null, ownerId: null })
    },
  },
  {
    name: 'skip(request) returning false still requires a key',
    run: async (t) => ({ response: await t.get('/skip', { 'X-Skip': 'no' }), tokens: [] }),
    expect: expectMissing,
  },
  {
    name: 'a key in the query string is ignored by default',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get(`/plain?api_key=${key}`), tokens: [key] }
    },
    expect: expectMissing,
  },
  {
    name: 'a key in the query string is read when `query` names the parameter',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get(`/query?api_key=${key}`), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'a configured `headers` list is read instead of the defaults',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/x-token', { 'X-Token': key }), tokens: [key] }
    },
    expect: expectSuccess,
  },
  {
    name: 'with a configured `headers` list, Authorization and X-API-Key are ignored',
    async run(t) {
      const key = await t.createKey()
      return {
        response: await t.get('/x-token', { Authorization: `Bearer ${key}`, 'X-API-Key': key }),
        tokens: [key],
      }
    },
    expect: expectMissing,
  },
  {
    name: 'a store that rejects with StoreError → 503 with Retry-After',
    async run(t) {
      const key = await t.createKey()
      return { response: await t.get('/unavailable', { Authorization: `Bearer ${key}` }), tokens: [key] }
    },
    expect(response) {
      expect(response.status).toBe(503)
      expect(response.headers['retry-after']).toBe('2')
      expect(response.headers['www-authenticate']).toBeUndefined()
      const body = problem(response)
      expect(body.code).toBe('UNAVAILABLE')
      expect(body.type).toBe('https://keyward.dev/problems/unavailable')
    },
  },
]

/** A store whose every read fails as an unreachable backend would. */
class UnreachableStore extends MemoryStore {
  // Nothing can be answered from memory either: every lookup goes to the (failing) backend.
  override peek(): undefined {
    return undefined
  }

  override async get(): Promise<never> {
    throw new StoreError('keyward: store unreachable (conformance fake)')
  }
}

function routes(keyward: Keyward, unavailable: Keyward): RouteSpec[] {
  const quiet = { realm: REALM, bruteForce: false as const }
  return [
    { path: '/plain', keyward, auth: quiet },
    { path: '/scoped', keyward, auth: { ...quiet, scopes: 'orders:write' } },
    { path: '/any', keyward, auth: { ...quiet, scopes: { anyOf: ['admin', 'reports:read'] } } },
    { path: '/cost', keyward, auth: { ...quiet, cost: 2 } },
    { path: '/query', keyward, auth: { ...quiet, query: 'api_key' } },
    { path: '/x-token', keyward, auth: { ...quiet, headers: ['X-Token'] } },
    // The only route in the keyward's guard (points: 3, set on the suite's keyward).
    { path: '/guarded', keyward, auth: { realm: REALM } },
    { path: '/require', keyward, auth: { bruteForce: false }, requireScopes: 'orders:write' },
    { path: '/require-only', keyward, requireScopes: 'orders:write' },
    { path: '/custom', keyward, auth: { ...quiet, customRejection: true } },
    { path: '/skip', keyward, auth: { ...quiet, skipOnHeader: true } },
    { path: '/unavailable', keyward: unavailable, auth: quiet },
  ]
}

/**
 * Registers the conformance suite for a keyward built by `makeKeyward` (which must add its store,
 * and a `secret` for a shared store). The suite calls `keyward.close()` when it is done; close
 * clients you passed to the store yourself.
 *
 * @example
 * runConformance('MemoryStore', (options) => createKeyward({ ...options, store: new MemoryStore() }))
 */
export function runConformance(name: string, makeKeyward: MakeKeyward): void {
  describe(`HTTP conformance (${name}): Express, Hono and Koa answer alike`, () => {
    let keyward: Keyward
    let unavailable: Keyward
    const servers = new Map<AdapterName, { server: Server; url: string }>()

    beforeAll(async () => {
      keyward = await makeKeyward({
        prefix: PREFIX,
        environment: 'live',
        rateLimit: { points: 100, duration: 60 },
        bruteForce: { points: 3, duration: 60, blockDuration: 60 },
      })
      unavailable = createKeyward({
        prefix: PREFIX,
        store: new UnreachableStore() as KeyStore,
        unavailableRetryAfterMs: 1500,
      })
      const table = routes(keyward, unavailable)
      for (const adapter of ADAPTERS) servers.set(adapter.name, await listen(adapter.listener(table)))
    })

    afterAll(async () => {
      for (const { server } of servers.values()) await close(server)
      await keyward?.close()
      await unavailable?.close()
    })

    const context = (adapter: AdapterName): CaseContext => {
      const { server, url } = servers.get(adapter) as { server: Server; url: string }
      return {
        keyward,
        adapter,
        url,
        async get(path, headers = {}) {
          let test = request(server).get(path)
          for (const [header, value] of Object.entries(headers)) test = test.set(header, value as string)
          return observe(await test)
        },
        async createKey(input = {}) {
          const created = await keyward.keys.create({
            ownerId: 'org_conformance',
            scopes: ['orders:read'],
            ...input,
          })
          return created.key
        },
      }
    }

    for (const testCase of CASES) {
      it(testCase.name, async () => {
        const seen = new Map<AdapterName, Observed>()
        const events: unknown[] = []
        const unsubscribe = keyward.events.on('verification', (event) => events.push(event))
        for (const adapter of ADAPTERS) {
          events.length = 0
          const { response, tokens } = await testCase.run(context(adapter.name))
          try {
            testCase.expect(response)
          } catch (error) {
            throw new Error(`[${adapter.name}] ${(error as Error).message}`, { cause: error })
          }
          for (const token of tokens) {
            expect(response.text, `[${adapter.name}] body echoes the token`).not.toContain(token)
            expect(response.rawHeaders, `[${adapter.name}] a header echoes the token`).not.toContain(token)
            expect(JSON.stringify(events), `[${adapter.name}] an event carries the token`).not.toContain(
              token,
            )
          }
          seen.set(adapter.name, response)
        }
        unsubscribe()
        const comparable = (adapter: AdapterName, response: Observed) => {
          const headers = { ...response.headers }
          // Success and custom bodies come from the route handlers, whose JSON content types differ
          // by framework; every response keyward itself writes is compared in full.
          if (headers['content-type'] !== 'application/problem+json') delete headers['content-type']
          const text = response.text.replace(/"keyId":"[0-9A-Za-z]{12}"/, '"keyId":"<id>"')
          return { adapter, status: response.status, headers, text }
        }
        const reference = comparable('express', seen.get('express') as Observed)
        for (const [adapter, response] of seen) {
          expect(comparable(adapter, response)).toEqual({ ...reference, adapter })
        }
      })
    }

    it('garbage in the key headers always gets a 4xx from every adapter, never a 5xx', async () => {
      const garbage = fc.sample(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ maxLength: 600 }),
          fc.constantFrom('Bearer', 'Bearer ,', 'bearer\t', `${PREFIX}_live_`, '\u00ff'.repeat(10)),
        ),
        { numRuns: 60, seed: 42 },
      )
      for (const adapter of ADAPTERS) {
        const { server } = servers.get(adapter.name) as { server: Server }
        for (const value of garbage) {
          // What Node's client can put on the wire: latin1, no CR/LF/NUL.
          const wire = [...Buffer.from(value).toString('latin1')]
            .filter((char) => char === '\t' || (char >= ' ' && char !== '\u007f'))
            .join('')
          for (const header of ['X-API-Key', 'Authorization']) {
            const response = await request(server).get('/plain').set(header, wire)
            expect(
              response.status,
              `${adapter.name} ${header}: ${JSON.stringify(wire)}`,
            ).toBeGreaterThanOrEqual(400)
            expect(response.status, `${adapter.name} ${header}: ${JSON.stringify(wire)}`).toBeLessThan(500)
          }
        }
      }
    })

    it('a raw control byte is refused by Node itself with 400, never a 5xx', async () => {
      for (const adapter of ADAPTERS) {
        const { url } = servers.get(adapter.name) as { url: string }
        const port = Number(new URL(url).port)
        const status = await new Promise<number>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.write(
              'GET /plain HTTP/1.1\r\nHost: x\r\nX-API-Key: conf_live_\u0001abc\r\nConnection: close\r\n\r\n',
            )
          })
          let data = ''
          socket.on('data', (chunk) => {
            data += chunk.toString('latin1')
          })
          socket.on('end', () => resolve(Number(data.split(' ')[1])))
          socket.on('error', reject)
        })
        expect(status, adapter.name).toBe(400)
      }
    })
  })
}
