/**
 * The HTTP contract (DESIGN §4) in one place: `toHttpResponse` maps a verification result to a
 * status, headers and an RFC 9457 problem body, so the Express, Hono and Koa adapters only copy
 * them onto their framework's response. Nothing here ever sees the presented token, so no header
 * or body can echo it.
 */
import type { VerifyCode, VerifyFailure, VerifyResult } from '../types.ts'
import { formatRateLimit, formatRateLimitPolicy, retryAfterSeconds } from './rate-limit-headers.ts'

/** Base of the problem `type` URIs; each type is documented at its URL (docs/middleware.md). */
export const PROBLEM_BASE_URI = 'https://keyward.dev/problems/'

/** The HTTP layer's own rejection, decided before any key lookup: the brute-force guard. */
export interface GuardFailure {
  valid: false
  code: 'TOO_MANY_FAILED_ATTEMPTS'
  /** Milliseconds until the client address is let through again. */
  retryAfterMs: number
}

/** Every way a request can be rejected: a verification failure or the brute-force guard. */
export type AuthFailure = VerifyFailure | GuardFailure

/** The `code` member of a problem body. */
export type ProblemCode = VerifyCode | GuardFailure['code']

/** An RFC 9457 problem body, sent as `application/problem+json`. */
export interface ProblemDetails {
  /** A stable URI naming the kind of problem, e.g. `https://keyward.dev/problems/invalid-key`. */
  type: string
  title: string
  status: number
  /** Human-readable; never contains the presented token. */
  detail: string
  code: ProblemCode
}

/** A framework-free response: adapters set `status` and `headers` and send `body` as JSON. */
export interface HttpResponse {
  status: number
  headers: Record<string, string>
  /** Present on every rejection; absent on success. */
  body?: ProblemDetails
}

export interface HttpResponseOptions {
  /** The `realm` of the `WWW-Authenticate` challenge. */
  realm: string
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** The problem `type` slug (after `PROBLEM_BASE_URI`) and title for each code. */
export const PROBLEM_TYPES: Readonly<Record<ProblemCode, { slug: string; title: string }>> = {
  MISSING: { slug: 'missing-key', title: 'API key required' },
  MALFORMED: { slug: 'invalid-key', title: 'Invalid API key' },
  NOT_FOUND: { slug: 'invalid-key', title: 'Invalid API key' },
  REVOKED: { slug: 'revoked-key', title: 'API key revoked' },
  EXPIRED: { slug: 'expired-key', title: 'API key expired' },
  DISABLED: { slug: 'disabled-key', title: 'API key disabled' },
  WRONG_ENVIRONMENT: { slug: 'wrong-environment', title: 'API key for another environment' },
  INSUFFICIENT_SCOPE: { slug: 'insufficient-scope', title: 'Insufficient scope' },
  RATE_LIMITED: { slug: 'rate-limited', title: 'Rate limit exceeded' },
  QUOTA_EXCEEDED: { slug: 'quota-exceeded', title: 'Quota exceeded' },
  UNAVAILABLE: { slug: 'unavailable', title: 'Authentication unavailable' },
  TOO_MANY_FAILED_ATTEMPTS: { slug: 'too-many-failed-attempts', title: 'Too many failed attempts' },
}

/** Fixed descriptions of why a token is invalid; the same text goes in `error_description`. */
const INVALID_TOKEN_DETAIL: Partial<Record<VerifyCode, string>> = {
  MALFORMED: 'The API key is malformed.',
  NOT_FOUND: 'The API key is not valid.',
  REVOKED: 'The API key has been revoked.',
  EXPIRED: 'The API key has expired.',
  DISABLED: 'The API key is disabled.',
  WRONG_ENVIRONMENT: 'The API key belongs to another environment (live/test) than this server.',
}

/** RFC 7230 token characters: what a realm may contain without any escaping. */
const REALM_PATTERN = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,128}$/

/** True for a realm that can be written inside a quoted-string as it is (printable ASCII, no `"` or `\`). */
export function isValidRealm(realm: unknown): realm is string {
  return typeof realm === 'string' && REALM_PATTERN.test(realm)
}

const EMPTY_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

function problem(code: ProblemCode, status: number, detail: string): ProblemDetails {
  const { slug, title } = PROBLEM_TYPES[code]
  return { type: PROBLEM_BASE_URI + slug, title, status, detail, code }
}

function seconds(value: string): string {
  return value === '1' ? '1 second' : `${value} seconds`
}

function withRateLimitHeaders(headers: Record<string, string>, result: AuthFailure | VerifyResult): void {
  const states = 'rateLimit' in result ? result.rateLimit : undefined
  if (states !== undefined && states.length > 0) {
    headers['RateLimit-Policy'] = formatRateLimitPolicy(states)
    headers.RateLimit = formatRateLimit(states)
  }
}

/**
 * Headers for a successful verification: `RateLimit-Policy` and `RateLimit` when the key is rate
 * limited, else none. The returned object is fresh (or a shared frozen empty one): do not mutate it.
 */
export function successHeaders(result: VerifyResult): Record<string, string> {
  const states = result.rateLimit
  if (states === undefined || states.length === 0) return EMPTY_HEADERS
  return { 'RateLimit-Policy': formatRateLimitPolicy(states), RateLimit: formatRateLimit(states) }
}

/**
 * The response for a verification result (DESIGN §4):
 *
 * | code | status | notable headers |
 * |---|---|---|
 * | MISSING | 401 | `WWW-Authenticate: Bearer realm="…"` |
 * | MALFORMED, NOT_FOUND, REVOKED, EXPIRED, DISABLED, WRONG_ENVIRONMENT | 401 | `… error="invalid_token"` |
 * | INSUFFICIENT_SCOPE | 403 | `… error="insufficient_scope", scope="<missing scopes>"` |
 * | RATE_LIMITED | 429 | `Retry-After`, `RateLimit-Policy`, `RateLimit` |
 * | QUOTA_EXCEEDED | 429 | `Retry-After` when the credits refill |
 * | TOO_MANY_FAILED_ATTEMPTS | 429 | `Retry-After` |
 * | UNAVAILABLE | 503 | `Retry-After` |
 *
 * Rejections carry `Cache-Control: no-store` and an `application/problem+json` body; a success
 * gets only the `RateLimit-*` headers.
 *
 * @example
 * const response = toHttpResponse(await keyward.verify(token), { realm: 'api' })
 * res.writeHead(response.status, response.headers).end(response.body && JSON.stringify(response.body))
 */
export function toHttpResponse(
  result: VerifyResult | AuthFailure,
  options: HttpResponseOptions,
): HttpResponse {
  if (result.valid) return { status: 200, headers: successHeaders(result) }
  const realm = options.realm
  // The realm goes into a quoted-string: refuse what could break out of it (or out of the header).
  if (!isValidRealm(realm)) throw new TypeError('keyward: toHttpResponse: invalid realm')
  const headers: Record<string, string> = {
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Cache-Control': 'no-store',
  }
  let body: ProblemDetails
  switch (result.code) {
    case 'MISSING':
      headers['WWW-Authenticate'] = `Bearer realm="${realm}"`
      body = problem(result.code, 401, 'This request needs an API key.')
      break
    case 'MALFORMED':
    case 'NOT_FOUND':
    case 'REVOKED':
    case 'EXPIRED':
    case 'DISABLED':
    case 'WRONG_ENVIRONMENT': {
      const detail = INVALID_TOKEN_DETAIL[result.code] as string
      headers['WWW-Authenticate'] =
        `Bearer realm="${realm}", error="invalid_token", error_description="${detail}"`
      body = problem(result.code, 401, detail)
      break
    }
    case 'INSUFFICIENT_SCOPE': {
      // Scopes are validated to RFC 6750 scope-tokens (no space, quote or backslash): safe to quote.
      const missing = (result.missingScopes ?? []).join(' ')
      headers['WWW-Authenticate'] = `Bearer realm="${realm}", error="insufficient_scope", scope="${missing}"`
      body = problem(
        result.code,
        403,
        missing === ''
          ? 'The API key lacks a scope this request needs.'
          : `The API key lacks a scope this request needs: ${missing}.`,
      )
      break
    }
    case 'RATE_LIMITED': {
      const retryAfter = retryAfterSeconds(result.retryAfterMs)
      headers['Retry-After'] = retryAfter
      withRateLimitHeaders(headers, result)
      body = problem(
        result.code,
        429,
        `The API key exceeded its rate limit; retry in ${seconds(retryAfter)}.`,
      )
      break
    }
    case 'QUOTA_EXCEEDED': {
      withRateLimitHeaders(headers, result)
      if (result.retryAfterMs !== undefined) {
        const retryAfter = retryAfterSeconds(result.retryAfterMs)
        headers['Retry-After'] = retryAfter
        body = problem(
          result.code,
          429,
          `The API key has no credits left for this request; they refill in ${seconds(retryAfter)}.`,
        )
      } else {
        body = problem(result.code, 429, 'The API key has no credits left for this request.')
      }
      break
    }
    case 'TOO_MANY_FAILED_ATTEMPTS': {
      const retryAfter = retryAfterSeconds(result.retryAfterMs)
      headers['Retry-After'] = retryAfter
      body = problem(
        result.code,
        429,
        `Too many requests with invalid API keys from this address; retry in ${seconds(retryAfter)}.`,
      )
      break
    }
    default: {
      const retryAfter = retryAfterSeconds(result.retryAfterMs)
      headers['Retry-After'] = retryAfter
      body = problem(
        'UNAVAILABLE',
        503,
        `API keys cannot be checked right now; retry in ${seconds(retryAfter)}.`,
      )
    }
  }
  return { status: body.status, headers, body }
}
