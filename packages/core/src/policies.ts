/**
 * Rate-limit policies as callers write them (`{ points, duration }`, one or several) turned into
 * their resolved, named form. Used for the installation default (`ConfigError`) and for a key's own
 * policies (`InvalidArgumentError`).
 */
import type { RateLimitPolicy, ResolvedPolicy } from './types.ts'
import {
  checkInteger,
  checkKnownFields,
  checkObject,
  configError,
  type FieldError,
  optionalInteger,
} from './validation.ts'

const POLICY_NAME = /^[A-Za-z0-9._-]{1,64}$/
const POLICY_FIELDS: ReadonlySet<string> = new Set(['name', 'points', 'duration', 'blockDuration'])

/** Validates and names policies; `field` is used in the error (`rateLimit`, `rateLimit[1].points`, …). */
export function resolvePolicies(
  field: string,
  input: RateLimitPolicy | readonly RateLimitPolicy[],
  defaultName: string | null,
  fail: FieldError = configError,
): ResolvedPolicy[] {
  const list = Array.isArray(input) ? input : [input as RateLimitPolicy]
  if (list.length === 0 || list.length > 8) throw fail(field, 'give 1 to 8 policies')
  const names = new Set<string>()
  return list.map((policy, index) => {
    const at = Array.isArray(input) ? `${field}[${index}]` : field
    checkObject(at, policy, fail, '{ points, duration }')
    checkKnownFields(at, policy, POLICY_FIELDS, fail)
    const points = checkInteger(`${at}.points`, policy.points, { min: 1 }, fail)
    const duration = checkInteger(`${at}.duration`, policy.duration, { min: 1 }, fail, ' (seconds)')
    const blockDuration = optionalInteger(
      `${at}.blockDuration`,
      policy.blockDuration,
      0,
      {},
      fail,
      ' (seconds)',
    )
    const name =
      policy.name ?? (defaultName !== null && list.length === 1 ? defaultName : `${points}-per-${duration}s`)
    if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
      throw fail(`${at}.name`, 'must be 1–64 characters of A-Z a-z 0-9 . _ -')
    }
    if (names.has(name)) throw fail(`${at}.name`, `policy name ${JSON.stringify(name)} is used twice`)
    names.add(name)
    return { name, points, duration, blockDuration }
  })
}
