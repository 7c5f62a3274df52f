/**
 * The `bruteForce` option of `createKeyward`, validated once (docs/architecture.md, "Brute-force
 * guard"). Every mistake is a `ConfigError` naming the field.
 */
import { checkInteger, checkKnownFields, checkObject, configError } from '../validation.ts'

export interface BruteForceOptions {
  /** Failed attempts allowed per client network within `duration`. @default 20 */
  points?: number
  /** Counting window, in seconds, from a network's first failure. @default 60 */
  duration?: number
  /** How long a network stays blocked once over, in seconds. @default 300 */
  blockDuration?: number
  /**
   * IPv6 clients are counted by this prefix (one subscriber usually holds a whole /64, so counting
   * addresses would give them 2^64 tries). IPv4 and IPv4-mapped IPv6 count by address. @default 64
   */
  ipv6Prefix?: number
  /**
   * Memory cap: client networks remembered at once (counted or blocked). Past it, expired entries
   * go first, then the oldest counts; a live block only when nothing else is left. ~300 bytes of
   * heap each. @default 100000
   */
  maxAddresses?: number
}

export interface ResolvedBruteForceOptions {
  points: number
  durationMs: number
  blockMs: number
  ipv6Prefix: number
  maxAddresses: number
}

const FIELDS: ReadonlySet<string> = new Set([
  'points',
  'duration',
  'blockDuration',
  'ipv6Prefix',
  'maxAddresses',
])

/** `null` when the guard is turned off (`false`). */
export function resolveBruteForceOptions(
  field: string,
  options: BruteForceOptions | false | undefined,
): ResolvedBruteForceOptions | null {
  if (options === false) return null
  const given =
    options === undefined
      ? {}
      : checkObject(
          field,
          options,
          configError,
          '{ points, duration, blockDuration, ipv6Prefix, maxAddresses } or false',
        )
  checkKnownFields(field, given, FIELDS, configError)
  const integer = (name: string, fallback: number, max?: number) =>
    given[name] === undefined
      ? fallback
      : checkInteger(`${field}.${name}`, given[name], max === undefined ? { min: 1 } : { min: 1, max })
  return {
    points: integer('points', 20),
    durationMs: integer('duration', 60) * 1000,
    blockMs: integer('blockDuration', 300) * 1000,
    ipv6Prefix: integer('ipv6Prefix', 64, 128),
    maxAddresses: integer('maxAddresses', 100_000),
  }
}
