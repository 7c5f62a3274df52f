/**
 * Validation of the key fields a caller may set through `keys.create` / `keys.update`, turning
 * each into its stored form (epoch ms, resolved policies). Every failure is an
 * `InvalidArgumentError` naming the field.
 */
import { checkCredits as checkCreditsShape } from '../credits.ts'
import { resolvePolicies } from '../policies.ts'
import { checkScopes } from '../scopes.ts'
import type { CreditsInput, RateLimitPolicy, ResolvedPolicy, StoredCredits } from '../types.ts'
import { argumentError, checkObject, checkString } from '../validation.ts'

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
