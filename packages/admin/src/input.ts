/**
 * Validated request bodies turned into the arguments of `keyward.keys` / `keyward.owners`: ISO
 * times become `Date`s, absent fields are left out (core refuses an explicit `undefined` for
 * some of them under exact optional types, and `null` means "remove" where it is allowed), and
 * the audit `reason` is left for the call's audit options.
 */
import type { CreateKeyInput, OwnerInput, RateLimitPolicy, UpdateKeyInput } from '@keyward/core'
import type {
  CreateKeyRequest,
  CreditsRequest,
  OwnerRequest,
  PolicyRequest,
  UpdateKeyRequest,
} from './wire.ts'

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> }

/** A copy of `value` without its `undefined` members. */
function defined<T extends object>(value: T): Defined<T> {
  const out: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(value)) if (member !== undefined) out[name] = member
  return out as Defined<T>
}

function toDate(value: string | null): Date | null {
  return value === null ? null : new Date(value)
}

function toPolicy(policy: PolicyRequest): RateLimitPolicy {
  return defined(policy) as RateLimitPolicy
}

function toPolicies(value: PolicyRequest | PolicyRequest[]): RateLimitPolicy | RateLimitPolicy[] {
  return Array.isArray(value) ? value.map(toPolicy) : toPolicy(value)
}

function toCredits(value: CreditsRequest): NonNullable<CreateKeyInput['credits']> {
  return defined(value) as NonNullable<CreateKeyInput['credits']>
}

export function toCreateInput(body: CreateKeyRequest, ownerId: string): CreateKeyInput {
  const { expiresAt, rateLimit, credits, reason: _reason, ...rest } = defined(body)
  const input: CreateKeyInput = { ...rest, ownerId }
  if (expiresAt !== undefined) input.expiresAt = new Date(expiresAt)
  if (rateLimit !== undefined) input.rateLimit = toPolicies(rateLimit)
  if (credits !== undefined) input.credits = toCredits(credits)
  return input
}

export function toUpdatePatch(body: UpdateKeyRequest): UpdateKeyInput {
  const { expiresAt, rateLimit, credits, reason: _reason, ...rest } = defined(body)
  const patch: UpdateKeyInput = rest
  if (expiresAt !== undefined) patch.expiresAt = toDate(expiresAt)
  if (rateLimit !== undefined) patch.rateLimit = rateLimit === null ? null : toPolicies(rateLimit)
  if (credits !== undefined) patch.credits = credits === null ? null : toCredits(credits)
  return patch
}

export function toOwnerInput(body: OwnerRequest): OwnerInput {
  const { rateLimit, credits, meta } = defined(body)
  const input: OwnerInput = {}
  if (rateLimit !== undefined) input.rateLimit = rateLimit === null ? null : toPolicies(rateLimit)
  if (credits !== undefined) input.credits = credits === null ? null : toCredits(credits)
  if (meta !== undefined) input.meta = meta
  return input
}
