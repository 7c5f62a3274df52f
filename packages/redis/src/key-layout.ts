/**
 * Where `RedisStore` keeps things (docs/redis.md, "Key layout"). Records, owner records, owner
 * indexes and the insertion sequence share the `{keys}` hash tag, so creating, updating, rotating
 * and deleting are single-slot atomic scripts on a cluster; the process-local cache keeps that slot
 * to misses and writes. Everything a request spends — the rate-limit counters of a key and of its
 * owner, the key's credit pool and the owner's — shares one hash tag per owner, `{o:<digest>}`, so
 * one script charges a request atomically on one slot, and different owners spread over the
 * cluster. Key names hold public key ids and hashed owner ids only — never a token or its hash.
 */
import { createHash } from 'node:crypto'
import type { ResolvedPolicy } from '@keyward/core/store'

/** Ids keyward generates are base62; anything else (braces, spaces, …) never reaches a key name. */
const ID_PATTERN = /^[0-9A-Za-z_-]{1,128}$/
const MAX_DIGESTS = 10_000

export function isStorableId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

/** An owner id as it appears in key names: hashed, since owner ids may hold anything (braces, e-mail addresses). */
export function ownerDigest(ownerId: string): string {
  return createHash('sha256').update(ownerId, 'utf8').digest('base64url')
}

export class KeyLayout {
  // Owner ids are hashed into key names (they are the operator's, of any shape); one sha256 per
  // request would show in profiles, so digests are remembered.
  private readonly digests = new Map<string, string>()

  constructor(private readonly prefix: string) {}

  /** base64url sha256 of an owner id: what key names carry instead of the id. */
  ownerDigest(ownerId: string): string {
    let digest = this.digests.get(ownerId)
    if (digest === undefined) {
      digest = ownerDigest(ownerId)
      if (this.digests.size >= MAX_DIGESTS) this.digests.clear()
      this.digests.set(ownerId, digest)
    }
    return digest
  }

  /** JSON envelope `{ r: StoredKey, p: poolId }` of one key. */
  record(id: string): string {
    return `${this.prefix}{keys}:rec:${id}`
  }

  /** Sorted set of an owner's key ids, scored by insertion sequence (oldest first). */
  owner(ownerId: string): string {
    return `${this.prefix}{keys}:owner:${this.ownerDigest(ownerId)}`
  }

  /** JSON of an owner's record (`StoredOwner`). */
  ownerRecord(ownerId: string): string {
    return `${this.prefix}{keys}:own:${this.ownerDigest(ownerId)}`
  }

  /** Counter that orders insertions, so listing keeps creation order even within one millisecond. */
  sequence(): string {
    return `${this.prefix}{keys}:seq`
  }

  /** Sorted set of record ids scored by when they stopped being usable (revoked or expired). */
  ends(): string {
    return `${this.prefix}{keys}:ends`
  }

  /** Counter bumped by every record write; its value travels with the change notice. */
  version(): string {
    return `${this.prefix}{keys}:version`
  }

  /** The hash tag of everything an owner's requests spend. */
  private spend(ownerId: string): string {
    return `${this.prefix}{o:${this.ownerDigest(ownerId)}}`
  }

  /**
   * Hash `{ r: remaining, t: refilledAt, a: refill amount, i: refill interval }` of a key's credit
   * pool (`poolId`: its rotation chain's first id).
   */
  keyPool(ownerId: string, poolId: string): string {
    return `${this.spend(ownerId)}:c:${poolId}`
  }

  /** The owner's credit pool, same shape as a key's. */
  ownerPool(ownerId: string): string {
    return `${this.spend(ownerId)}:oc`
  }

  /** Fixed-window counter of one policy for one budget: a key's chain (`k:<chainId>`) or the owner (`o`). */
  counter(ownerId: string, budget: string, policy: ResolvedPolicy): string {
    return `${this.spend(ownerId)}:rl:${policy.name}:${policy.points}:${policy.duration}:${policy.blockDuration}:${budget}`
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
    return `${this.prefix}{guard}:blocks`
  }

  /** Counter numbering the guard's block and unblock announcements (same slot as the blocks). */
  guardSequence(): string {
    return `${this.prefix}{guard}:seq`
  }

  /** Pub/sub channel of the guard's blocks and unblocks. */
  guardChannel(): string {
    return `${this.prefix}guard`
  }
}
