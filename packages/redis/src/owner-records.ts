/**
 * Owner records on Redis: the record (policies, credit settings, meta) as JSON in the `{keys}` slot,
 * the owner's credit pool on the owner's own slot beside its counters. Reads go through a small
 * process-local cache (owners are read on every request of their keys; most keys' owners have no
 * record at all, which is cached too), dropped on every write by the change feed's `o` notices.
 */

import { StoreError } from '@keyward/core'
import type { OwnerChanges, StoredOwner } from '@keyward/core/store'
import type { CommandGuard, RedisClient } from './command-guard.ts'
import type { CreditPools } from './credit-pools.ts'
import type { KeyLayout } from './key-layout.ts'
import { LiveCredits } from './live-credits.ts'
import type { FailMode } from './options.ts'
import { RecordCache } from './record-cache.ts'

/** A cached owner with its pool's balance (`live-credits.ts`). */
type CachedOwner = LiveCredits<StoredOwner>

type OwnerScript = (...args: string[]) => Promise<number | null>

export interface OwnerRecordsOptions {
  failMode: FailMode
  cacheSize: number
  cacheTtlMs: number
  creditsMaxAgeMs: number
}

const MAX_CAS_ATTEMPTS = 16

export class OwnerRecords {
  private readonly cache: RecordCache<CachedOwner>
  private readonly pending = new Map<string, Promise<CachedOwner | null>>()

  constructor(
    private readonly client: RedisClient,
    private readonly guard: CommandGuard,
    private readonly layout: KeyLayout,
    private readonly pools: CreditPools,
    private readonly script: OwnerScript,
    /** The change-feed notice for an owner write. */
    private readonly message: (digest: string) => string,
    private readonly isLive: () => boolean,
    private readonly options: OwnerRecordsOptions,
  ) {
    // Unknown owners are remembered as long as known ones: a write anywhere drops either.
    this.cache = new RecordCache({
      maxEntries: options.cacheSize,
      ttlMs: options.cacheTtlMs,
      maxMissing: options.cacheSize,
      missingTtlMs: options.cacheTtlMs,
    })
  }

  async get(ownerId: string): Promise<StoredOwner | null> {
    const digest = this.layout.ownerDigest(ownerId)
    const hit = this.cache.lookup(digest)
    if (hit !== undefined && !hit.stale && this.isLive()) {
      const cached = hit.value
      if (
        cached?.record.credits == null ||
        Date.now() - cached.creditsReadAt <= this.options.creditsMaxAgeMs
      ) {
        return cached?.current() ?? null
      }
    }
    let inFlight = this.pending.get(digest)
    if (inFlight === undefined) {
      const startedAt = this.cache.begin()
      inFlight = this.read(ownerId)
        .then((found) => {
          if (this.isLive()) this.cache.store(digest, found, startedAt)
          return found
        })
        .finally(() => {
          this.pending.delete(digest)
          this.cache.end()
        })
      this.pending.set(digest, inFlight)
    }
    try {
      return (await inFlight)?.current() ?? null
    } catch (error) {
      // Fail-open: what this process last knew of the owner stands in while Redis cannot answer.
      if (this.options.failMode === 'open' && hit !== undefined) return hit.value?.current() ?? null
      throw error
    }
  }

  /** The cached owner when it can be trusted as it is (feed live, fresh), else `undefined`. */
  peek(ownerId: string): StoredOwner | null | undefined {
    const hit = this.cache.lookup(this.layout.ownerDigest(ownerId))
    if (hit === undefined || hit.stale || !this.isLive()) return undefined
    const cached = hit.value
    if (cached === null) return null
    if (cached.record.credits !== null && Date.now() - cached.creditsReadAt > this.options.creditsMaxAgeMs) {
      return undefined
    }
    return cached.record
  }

  async put(owner: StoredOwner): Promise<void> {
    const pool = this.layout.ownerPool(owner.id)
    // The pool first: a charge between the two writes finds the new pool, never a missing one.
    if (owner.credits !== null) await this.pools.write(pool, owner.credits, false)
    await this.write(owner.id, '*', JSON.stringify(owner))
    if (owner.credits === null) await this.pools.delete(pool)
  }

  async update(ownerId: string, changes: OwnerChanges): Promise<StoredOwner | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.guard.run('get owner', () => this.client.get(this.layout.ownerRecord(ownerId)))
      if (raw === null) return null
      const updated: StoredOwner = { ...parseOwner(raw), ...changes }
      if (changes.credits != null)
        await this.pools.write(this.layout.ownerPool(ownerId), changes.credits, false)
      const reply = await this.write(ownerId, raw, JSON.stringify(updated))
      if (reply === -1) return null
      if (reply === 1) {
        if (changes.credits === null) await this.pools.delete(this.layout.ownerPool(ownerId))
        return (await this.withLiveCredits(updated)).current()
      }
    }
    throw new StoreError('keyward: owner kept changing during update; try again')
  }

  async delete(ownerId: string): Promise<StoredOwner | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.guard.run('get owner', () => this.client.get(this.layout.ownerRecord(ownerId)))
      if (raw === null) return null
      const reply = await this.write(ownerId, raw, '')
      if (reply === -1) return null
      if (reply === 1) {
        await this.pools.delete(this.layout.ownerPool(ownerId))
        return parseOwner(raw)
      }
    }
    throw new StoreError('keyward: owner kept changing during delete; try again')
  }

  /** Keeps a cached owner's credits current after a charge in this process. */
  spent(ownerId: string, remaining: number, refilledAt: number): void {
    this.cache.peekValue(this.layout.ownerDigest(ownerId))?.update(remaining, refilledAt)
  }

  /** Another process wrote the owner with this digest. */
  invalidate(digest: string): void {
    this.cache.invalidate(digest)
  }

  flush(): void {
    this.cache.flush()
  }

  private async write(ownerId: string, expected: string, next: string): Promise<number | null> {
    const digest = this.layout.ownerDigest(ownerId)
    const reply = await this.guard.run('write owner', () =>
      this.script(
        this.layout.ownerRecord(ownerId),
        this.layout.version(),
        expected,
        next,
        this.layout.channel(),
        this.message(digest),
      ),
    )
    this.cache.invalidate(digest)
    return reply
  }

  private async read(ownerId: string): Promise<CachedOwner | null> {
    const raw = await this.guard.run('get owner', () => this.client.get(this.layout.ownerRecord(ownerId)))
    return raw === null ? null : this.withLiveCredits(parseOwner(raw))
  }

  private async withLiveCredits(owner: StoredOwner): Promise<CachedOwner> {
    const cached = new LiveCredits(owner)
    if (owner.credits === null) return cached
    const live = await this.pools.read(this.layout.ownerPool(owner.id))
    if (live !== null) cached.update(live.remaining, live.refilledAt)
    return cached
  }
}

function parseOwner(raw: string): StoredOwner {
  try {
    const owner = JSON.parse(raw) as StoredOwner
    if (owner !== null && typeof owner === 'object' && typeof owner.id === 'string') return owner
  } catch {
    // Falls through to the error below.
  }
  throw new StoreError('keyward: unreadable owner record in Redis')
}
