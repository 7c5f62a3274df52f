/**
 * Everything keyward says about one outcome, in one table: the `VerifyCode`s of `verify` plus the
 * HTTP layer's own `TOO_MANY_FAILED_ATTEMPTS`. The HTTP contract (status, problem type, title,
 * detail, challenge), the brute-force guard (does it count as a failed attempt?) and usage
 * reporting all read this table, so a code means the same thing everywhere. See
 * docs/architecture.md, "Outcomes".
 */

export const VerifyCode = {
  MISSING: 'MISSING',
  MALFORMED: 'MALFORMED',
  NOT_FOUND: 'NOT_FOUND',
  REVOKED: 'REVOKED',
  EXPIRED: 'EXPIRED',
  DISABLED: 'DISABLED',
  WRONG_ENVIRONMENT: 'WRONG_ENVIRONMENT',
  FORBIDDEN_NETWORK: 'FORBIDDEN_NETWORK',
  INSUFFICIENT_SCOPE: 'INSUFFICIENT_SCOPE',
  RATE_LIMITED: 'RATE_LIMITED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  UNAVAILABLE: 'UNAVAILABLE',
  INVALID_REQUEST: 'INVALID_REQUEST',
} as const

export type VerifyCode = (typeof VerifyCode)[keyof typeof VerifyCode]

/** The HTTP layer's own rejection, decided before any key lookup. */
export type GuardCode = 'TOO_MANY_FAILED_ATTEMPTS'

/** The `code` of every rejection an API client can see. */
export type ProblemCode = VerifyCode | GuardCode

/** Which `WWW-Authenticate` challenge a rejection carries (RFC 6750 §3). */
export type Challenge = 'bare' | 'invalid_token' | 'insufficient_scope' | 'invalid_request' | null

export interface Outcome {
  status: 400 | 401 | 403 | 429 | 503
  /** The problem type's slug: `https://keyward.dev/problems/<slug>`. */
  slug: string
  title: string
  /**
   * The problem `detail` (and, for invalid tokens, `error_description`): a fixed sentence that never
   * contains the presented token.
   */
  detail: string
  /** The detail when a retry hint is known; `{retry}` stands for "N seconds". */
  retryDetail?: string
  challenge: Challenge
  /** Counts as a failed attempt for the brute-force guard: a key was presented and does not work. */
  failedAttempt: boolean
}

export const OUTCOMES: Readonly<Record<ProblemCode, Outcome>> = Object.freeze({
  MISSING: {
    status: 401,
    slug: 'missing-key',
    title: 'API key required',
    detail: 'This request needs an API key.',
    challenge: 'bare',
    failedAttempt: false,
  },
  MALFORMED: {
    status: 401,
    slug: 'invalid-key',
    title: 'Invalid API key',
    detail: 'The API key is malformed.',
    challenge: 'invalid_token',
    failedAttempt: true,
  },
  NOT_FOUND: {
    status: 401,
    slug: 'invalid-key',
    title: 'Invalid API key',
    detail: 'The API key is not valid.',
    challenge: 'invalid_token',
    failedAttempt: true,
  },
  REVOKED: {
    status: 401,
    slug: 'revoked-key',
    title: 'API key revoked',
    detail: 'The API key has been revoked.',
    challenge: 'invalid_token',
    failedAttempt: true,
  },
  EXPIRED: {
    status: 401,
    slug: 'expired-key',
    title: 'API key expired',
    detail: 'The API key has expired.',
    challenge: 'invalid_token',
    failedAttempt: true,
  },
  DISABLED: {
    status: 401,
    slug: 'disabled-key',
    title: 'API key disabled',
    detail: 'The API key is disabled.',
    challenge: 'invalid_token',
    failedAttempt: true,
  },
  WRONG_ENVIRONMENT: {
    status: 401,
    slug: 'wrong-environment',
    title: 'API key for another environment',
    detail: 'The API key belongs to another environment (live/test) than this server.',
    challenge: 'invalid_token',
    failedAttempt: true,
  },
  FORBIDDEN_NETWORK: {
    status: 403,
    slug: 'forbidden-network',
    title: 'Network not allowed',
    detail: 'The API key may not be used from this network.',
    challenge: null,
    failedAttempt: false,
  },
  INSUFFICIENT_SCOPE: {
    status: 403,
    slug: 'insufficient-scope',
    title: 'Insufficient scope',
    detail: 'The API key lacks a scope this request needs.',
    challenge: 'insufficient_scope',
    failedAttempt: false,
  },
  RATE_LIMITED: {
    status: 429,
    slug: 'rate-limited',
    title: 'Rate limit exceeded',
    detail: 'The API key exceeded its rate limit.',
    retryDetail: 'The API key exceeded its rate limit; retry in {retry}.',
    challenge: null,
    failedAttempt: false,
  },
  QUOTA_EXCEEDED: {
    status: 429,
    slug: 'quota-exceeded',
    title: 'Quota exceeded',
    detail: 'The API key has no credits left for this request.',
    retryDetail: 'The API key has no credits left for this request; they refill in {retry}.',
    challenge: null,
    failedAttempt: false,
  },
  UNAVAILABLE: {
    status: 503,
    slug: 'unavailable',
    title: 'Authentication unavailable',
    detail: 'API keys cannot be checked right now.',
    retryDetail: 'API keys cannot be checked right now; retry in {retry}.',
    challenge: null,
    failedAttempt: false,
  },
  INVALID_REQUEST: {
    status: 400,
    slug: 'invalid-request',
    title: 'Invalid authorization request',
    detail: 'The scopes or cost this request asks for cannot be checked.',
    challenge: 'invalid_request',
    failedAttempt: false,
  },
  TOO_MANY_FAILED_ATTEMPTS: {
    status: 429,
    slug: 'too-many-failed-attempts',
    title: 'Too many failed attempts',
    detail: 'Too many requests with invalid API keys from this address.',
    retryDetail: 'Too many requests with invalid API keys from this address; retry in {retry}.',
    challenge: null,
    failedAttempt: false,
  },
})
