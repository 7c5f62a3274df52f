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
const POLICY_FIELDS: ReadonlySet<string> = new Set(['name', 'points', 'duration', 'blockDuration', 'sync'])
const SYNC_FIELDS: ReadonlySet<string> = new Set(['intervalMs'])

/** How unnamed policies are named: `single` for a lone policy, else `<prefix><points>-per-<duration>s`. */
export interface PolicyNaming {
  single: string | null
  prefix: string
}

const KEY_NAMING: PolicyNaming = { single: null, prefix: '' }

/**
 * Validates and names policies; `field` is used in the error (`rateLimit`, `rateLimit[1].points`,
 * …). `naming` gives unnamed ones their header name: the installation default is `default`, an
 * owner's `owner` or `owner-<points>-per-<duration>s`, a key's `<points>-per-<duration>s`.
 */
export function resolvePolicies(
  field: string,
  input: RateLimitPolicy | readonly RateLimitPolicy[],
  naming: PolicyNaming | string | null = KEY_NAMING,
  fail: FieldError = configError,
): ResolvedPolicy[] {
  const naming_ = typeof naming === 'string' || naming === null ? { single: naming, prefix: '' } : naming
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
      policy.name ??
      (naming_.single !== null && list.length === 1
        ? naming_.single
        : `${naming_.prefix}${points}-per-${duration}s`)
    if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
      throw fail(`${at}.name`, 'must be 1–64 characters of A-Z a-z 0-9 . _ -')
    }
    if (names.has(name)) throw fail(`${at}.name`, `policy name ${JSON.stringify(name)} is used twice`)
    names.add(name)
    let syncMs: number | null = null
    if (policy.sync !== undefined) {
      checkObject(`${at}.sync`, policy.sync, fail, '{ intervalMs }')
      checkKnownFields(`${at}.sync`, policy.sync, SYNC_FIELDS, fail)
      syncMs = checkInteger(`${at}.sync.intervalMs`, policy.sync.intervalMs, { min: 10, max: 60_000 }, fail)
    }
    return { name, points, duration, blockDuration, syncMs }
  })
}
