/**
 * Where `RedisStore` keeps things. Records, owner indexes and the insertion sequence share the
 * `{keys}` hash tag, so creating, updating and rotating a key are single-slot atomic scripts on a
 * cluster; the cache keeps that slot to cache misses and writes. Each credit pool and each
 * rate-limit counter is its own key (its own slot), so the per-request writes spread over the
 * cluster. Key names hold public key ids and hashed owner ids only — never a token or its hash.
 */
import { createHash } from 'node:crypto'
import type { ResolvedPolicy } from '@keyward/core/store'

/** Ids keyward generates are base62; anything else (braces, spaces, …) never reaches a key name. */
const ID_PATTERN = /^[0-9A-Za-z_-]{1,128}$/

export function isStorableId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

export class KeyLayout {
  constructor(private readonly prefix: string) {}

  /** JSON envelope `{ r: StoredKey, p: poolId }` of one key. */
  record(id: string): string {
    return `${this.prefix}{keys}:rec:${id}`
  }

  /** Sorted set of an owner's key ids, scored by insertion sequence (oldest first). */
  owner(ownerId: string): string {
    const digest = createHash('sha256').update(ownerId, 'utf8').digest('base64url')
    return `${this.prefix}{keys}:owner:${digest}`
  }

  /** Counter that orders insertions, so listing keeps creation order even within one millisecond. */
  sequence(): string {
    return `${this.prefix}{keys}:seq`
  }

  /** Sorted set of record ids scored by when they stopped being usable (revoked or expired). */
  ends(): string {
    return `${this.prefix}{keys}:ends`
  }

  /** Hash `{ r: remaining, t: refilledAt, a: refill amount, i: refill interval }` of a credit pool. */
  credits(poolId: string): string {
    return `${this.prefix}{c:${poolId}}`
  }

  /** Counter bumped by every record write; its value travels with the change notice. */
  version(): string {
    return `${this.prefix}{keys}:version`
  }

  /** rate-limiter-flexible's key prefix for one policy; it appends `:<key id>`. */
  rateLimit(policy: ResolvedPolicy): string {
    return `${this.prefix}rl:${policy.name}:${policy.points}:${policy.duration}:${policy.blockDuration}`
  }

  /** Pub/sub channel of change notifications. */
  channel(): string {
    return `${this.prefix}changes`
  }

  /** The brute-force guard's failure count of one client network (expires with its window). */
  guardFailures(network: string): string {
    return `${this.prefix}guard:f:${network}`
  }

  /** Sorted set of the client networks the guard blocked, scored by when each block ends. */
  guardBlocks(): string {
    return `${this.prefix}guard:blocks`
  }

  /** Pub/sub channel of the guard's blocks and unblocks. */
  guardChannel(): string {
    return `${this.prefix}guard`
  }
}
