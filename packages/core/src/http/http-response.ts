/**
 * The HTTP contract in one place: `toHttpResponse` maps a verification result to a status, headers
 * and an RFC 9457 problem body, reading what each code means from the outcome table
 * (`verify-codes.ts`), so the Express, Hono and Koa adapters only copy them onto their
 * framework's response. Nothing here ever sees the presented token, so no header or body can
 * echo it. See docs/architecture.md, "Outcomes".
 */
import { isValidScope } from '../scopes.ts'
import type { VerifyFailure, VerifyResult, VerifySuccess } from '../types.ts'
import { type GuardCode, OUTCOMES, type ProblemCode } from '../verify-codes.ts'
import { formatRateLimit, formatRateLimitPolicy, retryAfterSeconds } from './rate-limit-headers.ts'

/** Base of the problem `type` URIs; each type is documented at its URL (docs/middleware.md). */
export const PROBLEM_BASE_URI = 'https://keyward.dev/problems/'

/** The HTTP layer's own rejection, decided before any key lookup: the brute-force guard. */
export interface GuardFailure {
  valid: false
  code: GuardCode
  /** Milliseconds until the client address is let through again. */
  retryAfterMs: number
}

/** Every way a request can be rejected: a verification failure or the brute-force guard. */
export type AuthFailure = VerifyFailure | GuardFailure

export type { ProblemCode }

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

/** RFC 7230 token characters: what a realm may contain without any escaping. */
const REALM_PATTERN = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,128}$/

/** True for a realm that can be written inside a quoted-string as it is (printable ASCII, no `"` or `\`). */
export function isValidRealm(realm: unknown): realm is string {
  return typeof realm === 'string' && REALM_PATTERN.test(realm)
}

const EMPTY_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

function seconds(value: string): string {
  return value === '1' ? '1 second' : `${value} seconds`
}

/**
 * Headers for a successful verification: `RateLimit-Policy` and `RateLimit` when the key is rate
 * limited, else none. The returned object is fresh (or a shared frozen empty one): do not mutate it.
 */
export function successHeaders(result: VerifySuccess): Record<string, string> {
  const states = result.rateLimit
  if (states === undefined || states.length === 0) return EMPTY_HEADERS
  return { 'RateLimit-Policy': formatRateLimitPolicy(states), RateLimit: formatRateLimit(states) }
}

/**
 * The response for a verification result (docs/middleware.md, "HTTP contract"): status, problem
 * type and detail from the outcome table; a `WWW-Authenticate` challenge for 401/403 (RFC 6750 §3);
 * `Retry-After` whenever a retry hint is known; `RateLimit-Policy` / `RateLimit` when limits
 * applied. Rejections carry `Cache-Control: no-store` and an `application/problem+json` body; a
 * success gets only the `RateLimit-*` headers.
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
  const outcome = OUTCOMES[result.code] ?? OUTCOMES.UNAVAILABLE
  const headers: Record<string, string> = {
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Cache-Control': 'no-store',
  }
  let detail = outcome.detail
  if ('retryAfterMs' in result && result.retryAfterMs !== undefined && outcome.retryDetail !== undefined) {
    const retryAfter = retryAfterSeconds(result.retryAfterMs)
    headers['Retry-After'] = retryAfter
    detail = outcome.retryDetail.replace('{retry}', seconds(retryAfter))
  }
  if ('rateLimit' in result && result.rateLimit !== undefined && result.rateLimit.length > 0) {
    headers['RateLimit-Policy'] = formatRateLimitPolicy(result.rateLimit)
    headers.RateLimit = formatRateLimit(result.rateLimit)
  }
  switch (outcome.challenge) {
    case 'bare':
      headers['WWW-Authenticate'] = `Bearer realm="${realm}"`
      break
    case 'invalid_token':
      headers['WWW-Authenticate'] =
        `Bearer realm="${realm}", error="invalid_token", error_description="${detail}"`
      break
    case 'insufficient_scope': {
      // Only validated scopes reach here (RFC 6750 scope-tokens: no space, quote or backslash), so
      // they are safe to quote; anything else is dropped rather than written into the header.
      const missing =
        result.code === 'INSUFFICIENT_SCOPE' ? result.missingScopes.filter(isValidScope).join(' ') : ''
      headers['WWW-Authenticate'] =
        missing === ''
          ? `Bearer realm="${realm}", error="insufficient_scope"`
          : `Bearer realm="${realm}", error="insufficient_scope", scope="${missing}"`
      if (missing !== '') detail = `${detail.slice(0, -1)}: ${missing}.`
      break
    }
    case 'invalid_request':
      headers['WWW-Authenticate'] = `Bearer realm="${realm}", error="invalid_request"`
      break
    case null:
      break
  }
  const code = outcome === OUTCOMES[result.code] ? result.code : 'UNAVAILABLE'
  return {
    status: outcome.status,
    headers,
    body: {
      type: PROBLEM_BASE_URI + outcome.slug,
      title: outcome.title,
      status: outcome.status,
      detail,
      code,
    },
  }
}
