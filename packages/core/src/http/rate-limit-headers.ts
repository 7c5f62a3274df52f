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

const policyCache = new Map<string, { limit: number; window: number; member: string }>()
const quotedNames = new Map<string, string>()

/** Policy names repeat on every response: quote each once. */
function quotedName(name: string): string {
  let quoted = quotedNames.get(name)
  if (quoted === undefined) {
    quoted = quoteString(name)
    if (quotedNames.size < 10_000) quotedNames.set(name, quoted)
  }
  return quoted
}

function policyMember(state: RateLimitState): string {
  // The policy part of a state changes only with the key's policies: build it once per policy.
  const cached = policyCache.get(state.policy)
  if (cached !== undefined && cached.limit === state.limit && cached.window === state.window) {
    return cached.member
  }
  const member = `${quotedName(state.policy)};q=${state.limit};w=${state.window}`
  if (policyCache.size < 10_000)
    policyCache.set(state.policy, { limit: state.limit, window: state.window, member })
  return member
}

/** `RateLimit-Policy`: `"default";q=100;w=60, "burst";q=10;w=1`. */
export function formatRateLimitPolicy(states: readonly RateLimitState[]): string {
  if (states.length === 1) return policyMember(states[0] as RateLimitState)
  return states.map(policyMember).join(', ')
}

function stateMember(state: RateLimitState): string {
  return `${quotedName(state.policy)};r=${state.remaining};t=${toSeconds(state.resetMs)}`
}

/** `RateLimit`: `"default";r=42;t=17` — remaining quota and seconds until the window resets. */
export function formatRateLimit(states: readonly RateLimitState[]): string {
  if (states.length === 1) return stateMember(states[0] as RateLimitState)
  return states.map(stateMember).join(', ')
}
