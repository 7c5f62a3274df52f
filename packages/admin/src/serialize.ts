/**
 * Records as the admin API sends them: keyward's `KeyRecord` / `OwnerRecord` as JSON — the same
 * fields, times as ISO 8601 strings — so the API, `keyward.keys` and the CLI's `--json` agree.
 */
import type { AbuseEvent, KeyRecord, OwnerRecord } from '@keyward/core'
import type { AbuseEventJson, CreditsJson, KeyJson, OwnerJson, PolicyJson } from './wire.ts'

type ResolvedPolicy = NonNullable<KeyRecord['rateLimit']>[number]

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString()
}

function policyJson(policy: ResolvedPolicy): PolicyJson {
  return {
    name: policy.name,
    points: policy.points,
    duration: policy.duration,
    blockDuration: policy.blockDuration,
    syncMs: policy.syncMs,
  }
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
    disabledReason: record.disabledReason,
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

/**
 * A key's abuse event as JSON; `null` for `failed-burst`, which names a client network, not a key
 * (a key's history never holds one).
 */
export function toAbuseEventJson(event: AbuseEvent): AbuseEventJson | null {
  const base = {
    windowStart: new Date(event.windowStart).toISOString(),
    windowMs: event.windowMs,
    quarantined: event.quarantined,
    timestamp: new Date(event.timestamp).toISOString(),
  }
  switch (event.kind) {
    case 'wrong-secret':
    case 'many-networks': {
      const { type: _type, windowStart: _start, timestamp: _at, ...rest } = event
      return { ...rest, ...base }
    }
    case 'spike': {
      const { type: _type, windowStart: _start, timestamp: _at, minute, ...rest } = event
      return { ...rest, ...base, minute: new Date(minute).toISOString() }
    }
    case 'failed-burst':
      return null
  }
}
