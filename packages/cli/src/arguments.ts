/**
 * Parsers for the values people type after a flag: durations (`30d`, `24h`, `90s`), rates
 * (`100/1m`), credit refills (`1000/30d`), expiries (a duration from now or an ISO date), counts
 * and JSON. Each throws a usage error that names the flag and shows an accepted form, so a typo is
 * answered with one line and exit code 2 before any backend is contacted.
 */
import { usageError } from './exit-codes.ts'

const UNIT_MS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const

type DurationUnit = keyof typeof UNIT_MS

const DURATION = /^(\d+)(ms|s|m|h|d|w)$/
const RATE = /^(\d+)\/(\d*)(s|m|h|d)$/

/** `30d`, `24h`, `15m`, `90s`, `500ms`, `2w` in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = DURATION.exec(text.trim())
  if (match === null) {
    throw usageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected a duration such as 90s, 15m, 24h or 30d`,
    )
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit]
  if (!Number.isSafeInteger(ms)) throw usageError(`invalid ${flag} ${JSON.stringify(text)}: too long`)
  return ms
}

/** A rate-limit policy from `<points>/<duration>`: `100/1m`, `10/1s`, `1000/1h`, `5/s`. */
export function parseRate(text: string, flag = '--rate'): { points: number; duration: number } {
  const match = RATE.exec(text.trim())
  const points = Number(match?.[1])
  if (match === null || points < 1 || !Number.isSafeInteger(points)) {
    throw usageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected <requests>/<window> such as 100/1m, 10/1s or 1000/1h`,
    )
  }
  const count = match[2] === '' ? 1 : Number(match[2])
  const seconds = (count * UNIT_MS[match[3] as DurationUnit]) / 1000
  if (seconds < 1 || !Number.isSafeInteger(seconds)) {
    throw usageError(`invalid ${flag} ${JSON.stringify(text)}: the window must be at least 1s`)
  }
  return { points, duration: seconds }
}

/** A credit refill from `<amount>/<interval>`: `1000/30d` tops the credits up to 1000 every 30 days. */
export function parseRefill(text: string, flag = '--refill'): { amount: number; interval: number } {
  const [amountText = '', intervalText = ''] = text.trim().split('/', 2)
  const amount = /^\d+$/.test(amountText) ? Number(amountText) : Number.NaN
  const interval = DURATION.test(intervalText) ? parseDuration(intervalText, flag) : Number.NaN
  if (!Number.isSafeInteger(amount) || amount < 1 || !(interval > 0)) {
    throw usageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected <credits>/<interval> such as 1000/30d or 100/1h`,
    )
  }
  return { amount, interval }
}

/** A whole number within `[min, max]` (`--credits 1000`, `--limit 50`). */
export function parseCount(
  text: string,
  flag: string,
  min = 0,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`
    throw usageError(`invalid ${flag} ${JSON.stringify(text)}: expected ${range}`)
  }
  return value
}

/**
 * An expiry: a duration from `now` (`30d`) or an ISO 8601 date or date-time (`2027-01-31`,
 * `2027-01-31T12:00:00Z`). It must lie in the future: a key born expired is a mistake.
 */
export function parseExpiry(text: string, now: number, flag = '--expires'): Date {
  const trimmed = text.trim()
  const at = DURATION.test(trimmed)
    ? now + parseDuration(trimmed, flag)
    : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)
      ? Date.parse(trimmed)
      : Number.NaN
  if (Number.isNaN(at)) {
    throw usageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected a duration from now (30d, 12h) or a date (2027-01-31)`,
    )
  }
  if (at <= now) throw usageError(`invalid ${flag} ${JSON.stringify(text)}: that is not in the future`)
  return new Date(at)
}

/** A JSON object (`--meta '{"plan":"pro"}'`). */
export function parseJsonObject(text: string, flag: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw usageError(`invalid ${flag}: not JSON (expected an object such as '{"plan":"pro"}')`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw usageError(`invalid ${flag}: expected a JSON object such as '{"plan":"pro"}'`)
  }
  return value as Record<string, unknown>
}

/** `30d`, `24h`, `90s` back from milliseconds: the largest unit that divides it. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  }
  return `${ms}ms`
}

/** A commander reducer for repeatable flags: every occurrence parsed and kept, in order. */
export function collect<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => [...(previous ?? []), parse(text)]
}

/** A lone value as itself, several as the list (`rateLimit` takes either; a lone one is named plainly). */
export function oneOrMany<T>(values: readonly [T, ...T[]] | readonly T[]): T | T[] {
  return values.length === 1 ? (values[0] as T) : [...values]
}
