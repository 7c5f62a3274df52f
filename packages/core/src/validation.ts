/**
 * The small checks every option and argument goes through. Each takes the path of the value it
 * checks (`rateLimit[1].points`, `credits.refill.interval`) and a factory for the error to throw,
 * so configuration mistakes surface as `ConfigError` and bad call arguments as
 * `InvalidArgumentError`, both naming the exact field. No other module hand-writes these checks.
 */
import { ConfigError, InvalidArgumentError, type KeywardError } from './errors.ts'

/** Builds the error for a field: `ConfigError` at construction, `InvalidArgumentError` per call. */
export type FieldError = (field: string, message: string) => KeywardError

export const configError: FieldError = (field, message) => new ConfigError(field, message)
export const argumentError: FieldError = (field, message) => new InvalidArgumentError(field, message)

export interface IntegerRange {
  /** Smallest allowed value. @default 0 */
  min?: number
  /** Largest allowed value. @default Number.MAX_SAFE_INTEGER */
  max?: number
}

function describeRange(min: number, max: number): string {
  if (max !== Number.MAX_SAFE_INTEGER) return `an integer from ${min} to ${max}`
  if (min === 0) return 'a non-negative integer'
  if (min === 1) return 'a positive integer'
  return `an integer ≥ ${min}`
}

/** A safe integer within `range`, or the error naming `field`. */
export function checkInteger(
  field: string,
  value: unknown,
  range: IntegerRange = {},
  fail: FieldError = configError,
  unit = '',
): number {
  const min = range.min ?? 0
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw fail(field, `must be ${describeRange(min, max)}${unit}`)
  }
  return value
}

/** `fallback` when `value` is undefined, else `checkInteger`. */
export function optionalInteger(
  field: string,
  value: unknown,
  fallback: number,
  range: IntegerRange = {},
  fail: FieldError = configError,
  unit = '',
): number {
  return value === undefined ? fallback : checkInteger(field, value, range, fail, unit)
}

/** A function or undefined. */
export function checkFunction(field: string, value: unknown, fail: FieldError = configError): void {
  if (value !== undefined && typeof value !== 'function') throw fail(field, 'must be a function')
}

/** One of `allowed`, or the error listing them. */
export function checkOneOf<const T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
  fail: FieldError = configError,
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw fail(field, `must be ${allowed.map((option) => `'${option}'`).join(' or ')}`)
  }
  return value as T
}

/** A non-null object (not an array). */
export function checkObject(
  field: string,
  value: unknown,
  fail: FieldError = configError,
  shape = 'an object',
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw fail(field, `must be ${shape}`)
  return value as Record<string, unknown>
}

/**
 * Refuses fields nobody reads: `update(id, { enabled: false })` must not silently leave a key
 * enabled. `path` prefixes the field in the error (`''` for top-level input); a near miss of a
 * known field is suggested.
 */
export function checkKnownFields(
  path: string,
  value: object,
  known: ReadonlySet<string>,
  fail: FieldError = argumentError,
): void {
  for (const field of Object.keys(value)) {
    if (known.has(field)) continue
    const at = path === '' ? field : `${path}.${field}`
    const hint =
      SYNONYMS[field] ??
      [...known].find((name) => name.toLowerCase().startsWith(field.toLowerCase().slice(0, 4)))
    throw fail(
      at,
      `is not a known field${hint !== undefined && known.has(hint) ? ` (did you mean \`${hint}\`?)` : ''}; known: ${[...known].join(', ')}`,
    )
  }
}

/** Names other API-key products use for fields keyward calls differently. */
const SYNONYMS: Readonly<Record<string, string>> = {
  enabled: 'disabled',
  expires: 'expiresAt',
  expiration: 'expiresAt',
  scope: 'scopes',
  permissions: 'scopes',
  metadata: 'meta',
  grace: 'gracePeriodMs',
  gracePeriod: 'gracePeriodMs',
  limit: 'points',
  owner: 'ownerId',
}

/** A string of `min`–`max` characters. */
export function checkString(
  field: string,
  value: unknown,
  range: IntegerRange,
  fail: FieldError = argumentError,
): string {
  const min = range.min ?? 0
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw fail(
      field,
      min === 0
        ? `must be a string of at most ${max} characters`
        : `must be a string of ${min}–${max} characters`,
    )
  }
  return value
}
