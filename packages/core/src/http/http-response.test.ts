import { describe, expect, it } from 'vitest'
import type { RateLimitState, VerifiedKey, VerifyFailure } from '../types.ts'
import { toHttpResponse } from './http-response.ts'
import { formatRateLimit, formatRateLimitPolicy, quoteString } from './rate-limit-headers.ts'

const realm = 'api'
const key: VerifiedKey = {
  id: 'abcdefghijkl',
  ownerId: 'org_1',
  name: null,
  environment: 'live',
  scopes: [],
  expiresAt: null,
  meta: {},
}
const state = (over: Partial<RateLimitState> = {}): RateLimitState => ({
  policy: 'default',
  limit: 100,
  remaining: 42,
  window: 60,
  resetMs: 16_001,
  ...over,
})

describe('toHttpResponse', () => {
  it('answers a missing key with 401 and a bare Bearer challenge (no error attribute)', () => {
    const response = toHttpResponse({ valid: false, code: 'MISSING' }, { realm })
    expect(response.status).toBe(401)
    expect(response.headers['WWW-Authenticate']).toBe('Bearer realm="api"')
    expect(response.headers['Content-Type']).toBe('application/problem+json')
    expect(response.headers['Cache-Control']).toBe('no-store')
    expect(response.body).toEqual({
      type: 'https://keyward.dev/problems/missing-key',
      title: 'API key required',
      status: 401,
      detail: 'This request needs an API key.',
      code: 'MISSING',
    })
  })

  it.each([
    ['MALFORMED', 'invalid-key'],
    ['NOT_FOUND', 'invalid-key'],
    ['REVOKED', 'revoked-key'],
    ['EXPIRED', 'expired-key'],
    ['DISABLED', 'disabled-key'],
    ['WRONG_ENVIRONMENT', 'wrong-environment'],
  ] as const)('answers %s with 401 invalid_token and problem type %s', (code, slug) => {
    const response = toHttpResponse({ valid: false, code, key } as VerifyFailure, { realm: 'orders api' })
    expect(response.status).toBe(401)
    expect(response.headers['WWW-Authenticate']).toMatch(
      /^Bearer realm="orders api", error="invalid_token", error_description="[^"\\]+"$/,
    )
    expect(response.body?.type).toBe(`https://keyward.dev/problems/${slug}`)
    expect(response.body?.code).toBe(code)
    expect(response.body?.status).toBe(401)
    expect(response.headers['Retry-After']).toBeUndefined()
  })

  it('answers a missing scope with 403 insufficient_scope naming the missing scopes', () => {
    const failure: VerifyFailure = {
      valid: false,
      code: 'INSUFFICIENT_SCOPE',
      key,
      missingScopes: ['orders:write', 'admin'],
    }
    const response = toHttpResponse(failure, { realm })
    expect(response.status).toBe(403)
    expect(response.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="orders:write admin"',
    )
    expect(response.body?.type).toBe('https://keyward.dev/problems/insufficient-scope')
    expect(response.body?.detail).toContain('orders:write admin')
  })

  it('answers a rate-limited key with 429, Retry-After rounded up and both RateLimit headers', () => {
    const response = toHttpResponse(
      {
        valid: false,
        code: 'RATE_LIMITED',
        key,
        retryAfterMs: 2001,
        rateLimit: [state({ remaining: 0, resetMs: 2001, retryAfterMs: 2001 })],
      },
      { realm },
    )
    expect(response.status).toBe(429)
    expect(response.headers['Retry-After']).toBe('3')
    expect(response.headers['RateLimit-Policy']).toBe('"default";q=100;w=60')
    expect(response.headers.RateLimit).toBe('"default";r=0;t=3')
    expect(response.headers['WWW-Authenticate']).toBeUndefined()
    expect(response.body?.type).toBe('https://keyward.dev/problems/rate-limited')
  })

  it('never sends Retry-After: 0', () => {
    const response = toHttpResponse(
      { valid: false, code: 'RATE_LIMITED', key, retryAfterMs: 0, rateLimit: [] },
      { realm },
    )
    expect(response.headers['Retry-After']).toBe('1')
  })

  it('answers exhausted credits with 429 quota-exceeded, with Retry-After only when a refill is known', () => {
    const refilling = toHttpResponse(
      { valid: false, code: 'QUOTA_EXCEEDED', key, credits: { remaining: 0 }, retryAfterMs: 60_000 },
      { realm },
    )
    expect(refilling.status).toBe(429)
    expect(refilling.body?.type).toBe('https://keyward.dev/problems/quota-exceeded')
    expect(refilling.headers['Retry-After']).toBe('60')
    const final = toHttpResponse(
      { valid: false, code: 'QUOTA_EXCEEDED', key, credits: { remaining: 0 } },
      { realm },
    )
    expect(final.status).toBe(429)
    expect(final.headers['Retry-After']).toBeUndefined()
  })

  it('answers an unreachable store with 503 and Retry-After', () => {
    const response = toHttpResponse({ valid: false, code: 'UNAVAILABLE', retryAfterMs: 1000 }, { realm })
    expect(response.status).toBe(503)
    expect(response.headers['Retry-After']).toBe('1')
    expect(response.body?.type).toBe('https://keyward.dev/problems/unavailable')
  })

  it('answers the brute-force guard with 429 too-many-failed-attempts', () => {
    const response = toHttpResponse(
      { valid: false, code: 'TOO_MANY_FAILED_ATTEMPTS', retryAfterMs: 299_500 },
      { realm },
    )
    expect(response.status).toBe(429)
    expect(response.headers['Retry-After']).toBe('300')
    expect(response.body?.type).toBe('https://keyward.dev/problems/too-many-failed-attempts')
    expect(response.body?.code).toBe('TOO_MANY_FAILED_ATTEMPTS')
  })

  it('gives a success only the RateLimit headers, one list member per policy', () => {
    const response = toHttpResponse(
      {
        valid: true,
        key,
        rateLimit: [state(), state({ policy: 'burst', limit: 10, window: 1, remaining: 9, resetMs: 400 })],
      },
      { realm },
    )
    expect(response).toEqual({
      status: 200,
      headers: {
        'RateLimit-Policy': '"default";q=100;w=60, "burst";q=10;w=1',
        RateLimit: '"default";r=42;t=17, "burst";r=9;t=1',
      },
    })
  })

  it('gives a success without rate limits no headers at all', () => {
    expect(toHttpResponse({ valid: true, key }, { realm })).toEqual({ status: 200, headers: {} })
  })
})

describe('structured-field serialisation', () => {
  it('quotes and escapes policy names as sf-strings', () => {
    expect(quoteString('a"b\\c')).toBe('"a\\"b\\\\c"')
    expect(formatRateLimitPolicy([state({ policy: 'we"ird' })])).toBe('"we\\"ird";q=100;w=60')
    expect(formatRateLimit([state({ resetMs: 0 })])).toBe('"default";r=42;t=0')
  })
})

describe('toHttpResponse realm', () => {
  it('refuses a realm that could break out of the quoted-string or the header', () => {
    for (const realm of ['a"b', 'a\\b', 'a\r\nSet-Cookie: x', '']) {
      expect(() => toHttpResponse({ valid: false, code: 'MISSING' }, { realm })).toThrow(TypeError)
    }
  })
})
