/**
 * Validation of the key fields a caller may set through `keys.create` / `keys.update`, turning
 * each into its stored form (epoch ms, resolved policies). Every failure is an
 * `InvalidArgumentError` naming the field.
 */
import { checkCredits as checkCreditsShape } from '../credits.ts'
import { parseCidr } from '../networks.ts'
import { resolvePolicies } from '../policies.ts'
import { checkScopes } from '../scopes.ts'
import type { CreditsInput, RateLimitPolicy, ResolvedPolicy, StoredCredits } from '../types.ts'
import { argumentError, checkKnownFields, checkObject, checkString } from '../validation.ts'

const MAX_META_BYTES = 16 * 1024

export { checkScopes }

export function checkOwnerId(ownerId: unknown): string {
  return checkString('ownerId', ownerId, { min: 1, max: 256 })
}

export function checkName(name: unknown): string | null {
  if (name === undefined || name === null) return null
  return checkString('name', name, { max: 256 })
}

export function checkDate(field: string, value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw argumentError(field, 'must be a valid Date')
  return value.getTime()
}

export function checkMeta(meta: unknown): Record<string, unknown> {
  if (meta === undefined) return {}
  checkObject('meta', meta, argumentError, 'a plain object')
  let json: string
  try {
    json = JSON.stringify(meta)
  } catch {
    throw argumentError('meta', 'must be JSON-serialisable')
  }
  if (Buffer.byteLength(json) > MAX_META_BYTES) {
    throw argumentError('meta', `must be at most ${MAX_META_BYTES} bytes as JSON`)
  }
  return JSON.parse(json) as Record<string, unknown>
}

export function checkRateLimit(
  value: RateLimitPolicy | readonly RateLimitPolicy[] | null | undefined,
): ResolvedPolicy[] | null {
  if (value === undefined || value === null) return null
  return resolvePolicies('rateLimit', value, null, argumentError)
}

export function checkCredits(value: CreditsInput | null | undefined, now: number): StoredCredits | null {
  if (value === undefined || value === null) return null
  return checkCreditsShape('credits', value, now, argumentError)
}

/** At most this many networks per key: the list is checked on every request. */
const MAX_NETWORKS = 64

/** CIDRs a key may be used from, normalised (`203.0.113.77/24` → `203.0.113.0/24`); duplicates dropped. */
export function checkAllowedNetworks(value: unknown): string[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_NETWORKS) {
    throw argumentError(
      'allowedNetworks',
      `must be an array of 1–${MAX_NETWORKS} CIDRs (or null for anywhere)`,
    )
  }
  const networks = value.map((cidr, index) => {
    const network = parseCidr(cidr)
    if (network === null) {
      throw argumentError(
        `allowedNetworks[${index}]`,
        `${JSON.stringify(cidr)} is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32`,
      )
    }
    return network.text
  })
  return [...new Set(networks)]
}

/** Who made a change and why, for the lifecycle event; both optional. */
export interface AuditOptions {
  /** Who acted: an admin key id, a user id, `cli:alice`… (≤ 256 characters). */
  actor?: string
  /** Why (≤ 1024 characters). */
  reason?: string
}

export interface Audit {
  actor: string | null
  reason: string | null
}

const AUDIT_FIELDS: ReadonlySet<string> = new Set(['actor', 'reason'])

/** Validates the audit part of a call's options; `extra` names the other fields the call takes. */
export function checkAudit(value: unknown, extra: ReadonlySet<string> = AUDIT_FIELDS): Audit {
  if (value === undefined) return { actor: null, reason: null }
  const options = checkObject('options', value, argumentError)
  checkKnownFields('', options, extra)
  return {
    actor: options.actor === undefined ? null : checkString('actor', options.actor, { min: 1, max: 256 }),
    reason:
      options.reason === undefined ? null : checkString('reason', options.reason, { min: 1, max: 1024 }),
  }
}
