/**
 * Conversions between the stored record and its public views: `KeyRecord` for management calls
 * (fresh copies, `Date`s) and `VerifiedKey` for requests (one frozen view per stored record).
 */
import type { KeyRecord, OwnerRecord, StoredCredits, StoredKey, StoredOwner, VerifiedKey } from './types.ts'

/** The public view of `stored`; `lastUsedAt` is kept apart from the record (usage), so it is passed in. */
export function toKeyRecord(stored: StoredKey, lastUsedAt: number | null = null): KeyRecord {
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
    disabledReason: stored.disabled ? (stored.disabledReason ?? null) : null,
    rateLimit: stored.rateLimit === null ? null : stored.rateLimit.map((policy) => ({ ...policy })),
    credits: creditsView(stored.credits),
    meta: structuredClone(stored.meta),
    rotatedFrom: stored.rotatedFrom,
    rotatedTo: stored.rotatedTo,
    allowedNetworks: stored.allowedNetworks === null ? null : [...stored.allowedNetworks],
    lastUsedAt: lastUsedAt === null ? null : new Date(lastUsedAt),
  }
}

function creditsView(credits: StoredCredits | null): KeyRecord['credits'] {
  if (credits === null) return null
  return {
    remaining: credits.remaining,
    refill: credits.refill === null ? null : { ...credits.refill },
    refilledAt: new Date(credits.refilledAt),
  }
}

export function toOwnerRecord(stored: StoredOwner): OwnerRecord {
  return {
    id: stored.id,
    rateLimit: stored.rateLimit === null ? null : stored.rateLimit.map((policy) => ({ ...policy })),
    credits: creditsView(stored.credits),
    meta: structuredClone(stored.meta),
    createdAt: new Date(stored.createdAt),
    updatedAt: new Date(stored.updatedAt),
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
