/**
 * Conversions between the stored record and its public views, and validation of the key fields a
 * caller may set (`keys.create` / `keys.update`).
 */
import { InvalidArgumentError } from './errors.ts'
import { resolvePolicies } from './rate-limits.ts'
import { checkScopes } from './scopes.ts'
import type {
  CreditsInput,
  KeyRecord,
  RateLimitPolicy,
  ResolvedPolicy,
  StoredCredits,
  StoredKey,
  VerifiedKey,
} from './types.ts'

const MAX_META_BYTES = 16 * 1024

export function toKeyRecord(stored: StoredKey): KeyRecord {
  return {
    id: stored.id,
    ownerId: stored.ownerId,
    name: stored.name,
    environment: stored.environment,
    scopes: [...stored.scopes],
    createdAt: new Date(stored.createdAt),
    updatedAt: new Date(stored.updatedAt),
    expiresAt: stored.expiresAt === null ? null : new Date(stored.expiresAt),
    revokedAt: stored.revokedAt === null ? null : new Date(stored.revokedAt),
    disabled: stored.disabled,
    rateLimit: stored.rateLimit === null ? null : stored.rateLimit.map((policy) => ({ ...policy })),
    credits:
      stored.credits === null
        ? null
        : {
            remaining: stored.credits.remaining,
            refill: stored.credits.refill === null ? null : { ...stored.credits.refill },
            refilledAt: new Date(stored.credits.refilledAt),
          },
    meta: structuredClone(stored.meta),
    rotatedFrom: stored.rotatedFrom,
    rotatedTo: stored.rotatedTo,
  }
}

// Verified views are built once per stored record object: stores return the same object until the
// record changes, so the hot path allocates nothing here.
const verifiedViews = new WeakMap<StoredKey, VerifiedKey>()

export function toVerifiedKey(stored: StoredKey): VerifiedKey {
  let view = verifiedViews.get(stored)
  if (view === undefined) {
    const expiresAt = stored.expiresAt
    // The view is shared by every request with this key: nothing in it may be mutable, or one
    // request's handler could change what the next one sees. A Date cannot be frozen, so each
    // read of `expiresAt` gets its own.
    view = Object.freeze({
      id: stored.id,
      ownerId: stored.ownerId,
      name: stored.name,
      environment: stored.environment,
      scopes: Object.freeze([...stored.scopes]),
      get expiresAt(): Date | null {
        return expiresAt === null ? null : new Date(expiresAt)
      },
      meta: deepFreeze(structuredClone(stored.meta)),
    })
    verifiedViews.set(stored, view)
  }
  return view
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

export function checkOwnerId(ownerId: unknown): string {
  if (typeof ownerId !== 'string' || ownerId.length === 0 || ownerId.length > 256) {
    throw new InvalidArgumentError('ownerId', 'must be a string of 1–256 characters')
  }
  return ownerId
}

export function checkName(name: unknown): string | null {
  if (name === undefined || name === null) return null
  if (typeof name !== 'string' || name.length > 256) {
    throw new InvalidArgumentError('name', 'must be a string of at most 256 characters')
  }
  return name
}

export function checkDate(field: string, value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArgumentError(field, 'must be a valid Date')
  }
  return value.getTime()
}

export function checkMeta(meta: unknown): Record<string, unknown> {
  if (meta === undefined) return {}
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new InvalidArgumentError('meta', 'must be a plain object')
  }
  let json: string
  try {
    json = JSON.stringify(meta)
  } catch {
    throw new InvalidArgumentError('meta', 'must be JSON-serialisable')
  }
  if (Buffer.byteLength(json) > MAX_META_BYTES) {
    throw new InvalidArgumentError('meta', `must be at most ${MAX_META_BYTES} bytes as JSON`)
  }
  return JSON.parse(json) as Record<string, unknown>
}

export function checkRateLimit(
  value: RateLimitPolicy | readonly RateLimitPolicy[] | null | undefined,
): ResolvedPolicy[] | null {
  if (value === undefined || value === null) return null
  return resolvePolicies(
    'rateLimit',
    value,
    null,
    (field, message) => new InvalidArgumentError(field, message),
  )
}

export function checkCredits(value: CreditsInput | null | undefined, now: number): StoredCredits | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object') throw new InvalidArgumentError('credits', 'must be { remaining, refill? }')
  if (!Number.isSafeInteger(value.remaining) || value.remaining < 0) {
    throw new InvalidArgumentError('credits.remaining', 'must be a non-negative integer')
  }
  let refill: StoredCredits['refill'] = null
  if (value.refill !== undefined) {
    const { amount, interval } = value.refill
    if (!Number.isSafeInteger(amount) || amount < 1) {
      throw new InvalidArgumentError('credits.refill.amount', 'must be a positive integer')
    }
    if (!Number.isSafeInteger(interval) || interval < 1000) {
      throw new InvalidArgumentError(
        'credits.refill.interval',
        'must be an integer number of ms, at least 1000',
      )
    }
    refill = { amount, interval }
  }
  return { remaining: value.remaining, refill, refilledAt: now }
}

export { checkScopes }
