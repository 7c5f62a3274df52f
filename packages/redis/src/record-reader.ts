/**
 * Read-through access to key records: the process-local cache (`record-cache.ts`) while the change
 * feed is live, Redis otherwise, with concurrent misses of one id sharing a single read. A cached
 * record's credits are re-read from its pool once older than `creditsMaxAgeMs` (other processes'
 * spends are not broadcast). A cached record is confirmed up to the later of when it was read and
 * when the change feed last proved it had heard every notice. It is served without asking Redis,
 * and in fail-open mode it answers when Redis cannot, only while that is within `maxStaleMs`: a
 * feed that looks alive but hears nothing (a black hole) cannot keep a stale record in use longer
 * (docs/architecture.md, "Stores").
 */
import type { StoredKey } from '@keyward/core/store'
import type { CommandGuard, RedisClient } from './command-guard.ts'
import type { CreditPools } from './credit-pools.ts'
import { type Envelope, parseEnvelope } from './envelope.ts'
import { isStorableId, type KeyLayout } from './key-layout.ts'
import { LiveCredits } from './live-credits.ts'
import type { FailMode } from './options.ts'
import { RecordCache } from './record-cache.ts'

/** A cached key record with its pool's balance (`live-credits.ts`). */
export class Cached extends LiveCredits<StoredKey> {
  constructor(
    record: StoredKey,
    /** The id of the key's credit pool (its chain's). */
    readonly pool: string,
    /** When the record was read from Redis (the command was sent), epoch ms. */
    readonly fetchedAt: number,
  ) {
    super(record)
  }
}

export interface RecordReaderOptions {
  failMode: FailMode
  cacheSize: number
  cacheTtlMs: number
  negativeCacheSize: number
  negativeCacheTtlMs: number
  creditsMaxAgeMs: number
  /**
   * The oldest confirmation a cached record may have to be served without asking Redis, and in
   * fail-open mode to answer when Redis cannot.
   */
  maxStaleMs: number
}

/** What the reader needs to know of the change feed. */
export interface FeedState {
  /** True while notices are flowing: only then may the cache be trusted. */
  readonly subscribed: boolean
  /** Epoch ms up to which every notice is known to have been heard (0 when unknown). */
  readonly confirmedAt: number
}

export class RecordReader {
  private readonly cache: RecordCache<Cached>
  private readonly pending = new Map<string, Promise<Cached | null>>()
  private readonly pendingCredits = new Map<string, Promise<Cached>>()
  /** Lookups answered without Redis, and lookups that read Redis (for `RedisStore.cacheStats`). */
  private hits = 0
  private misses = 0
  constructor(
    private readonly client: RedisClient,
    private readonly guard: CommandGuard,
    private readonly layout: KeyLayout,
    private readonly pools: CreditPools,
    private readonly options: RecordReaderOptions,
    private readonly feed: () => FeedState,
  ) {
    this.cache = new RecordCache({
      maxEntries: options.cacheSize,
      ttlMs: options.cacheTtlMs,
      maxMissing: options.negativeCacheSize,
      missingTtlMs: options.negativeCacheTtlMs,
    })
  }

  /** The record and pool of `id`: from the cache while invalidations are flowing, else from Redis. */
  async lookup(id: string): Promise<Cached | null> {
    if (!isStorableId(id)) return null
    const hit = this.cache.lookup(id)
    // Without a live subscription, confirmed within `maxStaleMs`, the cache may miss
    // invalidations: trust it only as a fallback.
    if (
      hit !== undefined &&
      !hit.stale &&
      this.isLive() &&
      this.ageOf(hit.value) <= this.options.maxStaleMs
    ) {
      const cached = hit.value
      if (
        cached?.record.credits == null ||
        Date.now() - cached.creditsReadAt <= this.options.creditsMaxAgeMs
      ) {
        this.hits++
        return cached
      }
      this.misses++
      try {
        return await this.refreshCredits(id, cached)
      } catch (error) {
        if (this.options.failMode === 'open') return cached
        throw error
      }
    }
    this.misses++
    try {
      return await this.fetch(id)
    } catch (error) {
      // Open mode answers from a record Redis confirmed recently enough, never from an older one:
      // a revoke made while this process is cut off is seen within `maxStaleMs`.
      const fallback = hit?.value
      if (
        this.options.failMode === 'open' &&
        fallback != null &&
        this.ageOf(fallback) <= this.options.maxStaleMs
      ) {
        return fallback
      }
      throw error
    }
  }

  /**
   * The cached record when it can be trusted as it is (feed live and confirmed within
   * `maxStaleMs`, fresh), else `undefined`.
   */
  peek(id: string): StoredKey | null | undefined {
    const hit = this.cache.lookup(id)
    if (hit === undefined || hit.stale || !this.isLive() || this.ageOf(hit.value) > this.options.maxStaleMs) {
      return undefined
    }
    const cached = hit.value
    if (cached === null) {
      this.hits++
      return null
    }
    if (cached.record.credits !== null && Date.now() - cached.creditsReadAt > this.options.creditsMaxAgeMs) {
      return undefined
    }
    this.hits++
    return cached.record
  }

  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.cache.size }
  }

  /** The record with `credits` as its pool holds them now (the record's copy is the initial one). */
  async withLiveCredits(envelope: Envelope, fetchedAt: number = Date.now()): Promise<Cached> {
    const cached = new Cached(envelope.r, envelope.p, fetchedAt)
    if (envelope.r.credits === null) return cached
    await this.readCredits(cached)
    return cached
  }

  /** Keeps a cached record's credits current after a spend made in this process. */
  spent(id: string, remaining: number, refilledAt: number): void {
    this.cache.peekValue(id)?.update(remaining, refilledAt)
  }

  /** `id` was created: drop a cached "unknown". */
  created(id: string): void {
    this.cache.forgetMissing(id)
  }

  /** `id` changed: drop it. */
  invalidate(id: string): void {
    this.cache.invalidate(id)
  }

  flush(): void {
    this.cache.flush()
  }

  private isLive(): boolean {
    return this.feed().subscribed
  }

  /** Milliseconds since Redis last confirmed `cached` (read it, or the feed vouched for it). */
  private ageOf(cached: Cached | null): number {
    const confirmedAt = Math.max(cached?.fetchedAt ?? 0, this.feed().confirmedAt)
    return Date.now() - confirmedAt
  }

  /** One read per id at a time: concurrent misses of the same id share it. */
  private fetch(id: string): Promise<Cached | null> {
    let inFlight = this.pending.get(id)
    if (inFlight === undefined) {
      const startedAt = this.cache.begin()
      inFlight = this.read(id)
        .then((found) => {
          if (this.isLive()) this.cache.store(id, found, startedAt)
          return found
        })
        .finally(() => {
          this.pending.delete(id)
          this.cache.end()
        })
      this.pending.set(id, inFlight)
    }
    return inFlight
  }

  private refreshCredits(id: string, cached: Cached): Promise<Cached> {
    let inFlight = this.pendingCredits.get(id)
    if (inFlight === undefined) {
      inFlight = this.readCredits(cached)
        .then(() => cached)
        .finally(() => this.pendingCredits.delete(id))
      this.pendingCredits.set(id, inFlight)
    }
    return inFlight
  }

  /** The balance of `cached`'s pool, read now (the record's own figures stay when the pool is gone). */
  private async readCredits(cached: Cached): Promise<void> {
    const live = await this.pools.read(this.layout.keyPool(cached.record.ownerId, cached.pool))
    if (live === null) cached.creditsReadAt = Date.now()
    else cached.update(live.remaining, live.refilledAt)
  }

  private async read(id: string): Promise<Cached | null> {
    const sentAt = Date.now()
    const raw = await this.guard.run('get', () => this.client.get(this.layout.record(id)))
    return raw === null ? null : this.withLiveCredits(parseEnvelope(raw), sentAt)
  }
}
