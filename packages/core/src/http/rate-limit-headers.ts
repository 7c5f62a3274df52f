/**
 * `RateLimit-Policy` / `RateLimit` header values (draft-ietf-httpapi-ratelimit-headers) as RFC 8941
 * structured-field lists: one member per policy, the policy name a quoted sf-string, e.g.
 * `"default";q=100;w=60` and `"default";r=42;t=17`. Also the `Retry-After` rounding every
 * response shares.
 */
import type { RateLimitState } from '../types.ts'

/** Serialises `value` as an RFC 8941 sf-string: quoted, with `\` and `"` escaped. */
export function quoteString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

/** Seconds for `Retry-After` (and `t=`): rounded up, so a client never retries too early. */
export function toSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000)
}

/** `Retry-After` is never 0: that would invite an immediate, certainly failing, retry. */
export function retryAfterSeconds(ms: number | undefined): string {
  return String(Math.max(1, toSeconds(ms ?? 0)))
}

const policyCache = new Map<string, string>()

function policyMember(state: RateLimitState): string {
  // The policy part of a state changes only with the key's policies: cache the string.
  const cacheKey = `${state.policy}\n${state.limit}\n${state.window}`
  let member = policyCache.get(cacheKey)
  if (member === undefined) {
    member = `${quoteString(state.policy)};q=${state.limit};w=${state.window}`
    if (policyCache.size < 10_000) policyCache.set(cacheKey, member)
  }
  return member
}

/** `RateLimit-Policy`: `"default";q=100;w=60, "burst";q=10;w=1`. */
export function formatRateLimitPolicy(states: readonly RateLimitState[]): string {
  if (states.length === 1) return policyMember(states[0] as RateLimitState)
  return states.map(policyMember).join(', ')
}

function stateMember(state: RateLimitState): string {
  return `${quoteString(state.policy)};r=${state.remaining};t=${toSeconds(state.resetMs)}`
}

/** `RateLimit`: `"default";r=42;t=17` — remaining quota and seconds until the window resets. */
export function formatRateLimit(states: readonly RateLimitState[]): string {
  if (states.length === 1) return stateMember(states[0] as RateLimitState)
  return states.map(stateMember).join(', ')
}
