/**
 * The brute-force guard: counts failed attempts (invalid, unknown, revoked… keys) per client
 * address with rate-limiter-flexible's `RateLimiterMemory`, separately from the keys' own limits.
 * After `points` failures within `duration` seconds the address is blocked for `blockDuration`
 * seconds, and its requests are answered 429 before any key lookup. The block list is a plain
 * `Map` checked synchronously, so the hot path of a well-behaved client costs one lookup.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { checkInteger, checkObject } from '../validation.ts'

export interface BruteForceOptions {
  /** Failed attempts allowed per address within `duration`. @default 20 */
  points?: number
  /** Counting window, in seconds. @default 60 */
  duration?: number
  /** How long an address stays blocked once over, in seconds. @default 300 */
  blockDuration?: number
}

const DEFAULTS = { points: 20, duration: 60, blockDuration: 300 } as const
/** Bound on remembered blocks, so a flood of spoofed addresses cannot grow memory without limit. */
const MAX_BLOCKED = 100_000

export function resolveBruteForceOptions(
  field: string,
  options: BruteForceOptions | false | undefined,
): Required<BruteForceOptions> | null {
  if (options === false) return null
  if (options === undefined) return { ...DEFAULTS }
  checkObject(field, options, undefined, '{ points, duration, blockDuration } or false')
  const resolved = { ...DEFAULTS, ...options }
  for (const name of ['points', 'duration', 'blockDuration'] as const) {
    checkInteger(`${field}.${name}`, resolved[name], { min: 1 })
  }
  return resolved
}

export class BruteForceGuard {
  private readonly failures: RateLimiterMemory
  private readonly blockedUntil = new Map<string, number>()
  private readonly blockMs: number
  private readonly points: number

  constructor(
    options: Required<BruteForceOptions>,
    private readonly now: () => number,
  ) {
    this.points = options.points
    this.failures = new RateLimiterMemory({
      keyPrefix: 'kw-guard',
      points: options.points,
      duration: options.duration,
    })
    this.blockMs = options.blockDuration * 1000
  }

  /** Milliseconds the address is still blocked for, or 0. Synchronous: no promise per request. */
  blockedFor(address: string): number {
    if (this.blockedUntil.size === 0) return 0
    const until = this.blockedUntil.get(address)
    if (until === undefined) return 0
    const left = until - this.now()
    if (left > 0) return left
    this.blockedUntil.delete(address)
    return 0
  }

  /**
   * Counts one failed attempt; blocks the address once it has used up its `points`. Resolves the
   * block this attempt started (`null` when it started none).
   */
  async recordFailure(address: string): Promise<{ failures: number; until: number } | null> {
    let remaining: number
    try {
      remaining = (await this.failures.consume(address, 1)).remainingPoints
    } catch {
      // Rejected: already over (a concurrent request blocked it first).
      remaining = 0
    }
    if (remaining > 0) return null
    const wasBlocked = this.blockedFor(address) > 0
    if (this.blockedUntil.size >= MAX_BLOCKED) this.sweep()
    const until = this.now() + this.blockMs
    this.blockedUntil.set(address, until)
    // A fresh count once the block ends.
    await this.failures.delete(address)
    return wasBlocked ? null : { failures: this.points, until }
  }

  private sweep(): void {
    const at = this.now()
    for (const [address, until] of this.blockedUntil) if (until <= at) this.blockedUntil.delete(address)
    if (this.blockedUntil.size >= MAX_BLOCKED) this.blockedUntil.clear()
  }
}
