/**
 * Records as the admin API sends them: keyward's `KeyRecord` / `OwnerRecord` with ISO 8601 times
 * and rate-limit policies in the shape a request writes them (`sync: { intervalMs }`), so a
 * record read from the API can be sent back in a `PATCH` as it is.
 */
import type { KeyRecord, OwnerRecord } from '@keyward/core'
import type { CreditsJson, KeyJson, OwnerJson, PolicyJson } from './wire.ts'

type ResolvedPolicy = NonNullable<KeyRecord['rateLimit']>[number]

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString()
}

function policyJson(policy: ResolvedPolicy): PolicyJson {
  const json: PolicyJson = {
    name: policy.name,
    points: policy.points,
    duration: policy.duration,
    blockDuration: policy.blockDuration,
  }
  if (policy.syncMs !== null) json.sync = { intervalMs: policy.syncMs }
  return json
}

function creditsJson(credits: KeyRecord['credits']): CreditsJson | null {
  if (credits === null) return null
  return {
    remaining: credits.remaining,
    refill:
      credits.refill === null ? null : { amount: credits.refill.amount, interval: credits.refill.interval },
    refilledAt: credits.refilledAt.toISOString(),
  }
}

export function toKeyJson(record: KeyRecord): KeyJson {
  return {
    id: record.id,
    ownerId: record.ownerId,
    name: record.name,
    environment: record.environment,
    scopes: [...record.scopes],
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
    disabled: record.disabled,
    rateLimit: record.rateLimit === null ? null : record.rateLimit.map(policyJson),
    credits: creditsJson(record.credits),
    meta: record.meta,
    rotatedFrom: record.rotatedFrom,
    rotatedTo: record.rotatedTo,
    allowedNetworks: record.allowedNetworks,
    lastUsedAt: iso(record.lastUsedAt),
  }
}

export function toOwnerJson(record: OwnerRecord): OwnerJson {
  return {
    id: record.id,
    rateLimit: record.rateLimit === null ? null : record.rateLimit.map(policyJson),
    credits: creditsJson(record.credits),
    meta: record.meta,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  }
}
