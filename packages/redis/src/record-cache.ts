/**
 * The process-local record cache in front of Redis: bounded (least recently used entries go
 * first, found in O(1) by core's `LinkedMap`), each entry with a safety TTL in case an
 * invalidation is ever lost. Ids that do not exist
 * are remembered for a short while in a second, separately bounded map, so a flood of made-up ids
 * cycles through that map only and can never push a real record out (docs/architecture.md,
 * "Stores"). A generation counter guards against a read that started before an invalidation and
 * finishes after it: such a read is returned, never cached.
 */

interface Entry<T> {
  value: T
  expiresAt: number
}

import { LinkedMap } from '@keyward/core/store'

export interface CacheLookup<T> {
  /** The cached value (`null` for a cached miss). */
  value: T | null
  /** True when the entry is past its TTL: usable only when the backend cannot be asked. */
  stale: boolean
}

export interface RecordCacheOptions {
  /** Records kept (0: none). */
  maxEntries: number
  /** Safety TTL of a record, in ms. */
  ttlMs: number
  /** Unknown ids kept, in their own map (0: none). */
  maxMissing: number
  /** How long an unknown id is remembered, in ms (0: not at all). */
  missingTtlMs: number
  now?: () => number
}

export class RecordCache<T> {
  private readonly entries = new LinkedMap<string, Entry<T>>()
  /** Unknown ids and when each stops counting as unknown. */
  private readonly missing = new LinkedMap<string, number>()
  private readonly invalidatedAt = new Map<string, number>()
  private generation = 0
  private flushedAt = 0
  private readsInFlight = 0

  private readonly maxEntries: number
  private readonly ttlMs: number
  private readonly maxMissing: number
  private readonly missingTtlMs: number
  private readonly now: () => number

  constructor(options: RecordCacheOptions) {
    this.maxEntries = options.maxEntries
    this.ttlMs = options.ttlMs
    this.maxMissing = options.missingTtlMs === 0 ? 0 : options.maxMissing
    this.missingTtlMs = options.missingTtlMs
    this.now = options.now ?? Date.now
  }

  /** Records cached. */
  get size(): number {
    return this.entries.size
  }

  /** Unknown ids remembered. */
  get missingSize(): number {
    return this.missing.size
  }

  lookup(id: string): CacheLookup<T> | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) {
      const until = this.missing.get(id)
      return until === undefined ? undefined : { value: null, stale: until <= this.now() }
    }
    this.entries.touch(id)
    return { value: entry.value, stale: entry.expiresAt <= this.now() }
  }

  /** Marks the start of a read; pass the result to `store`, and call `end` once it settles. */
  begin(): number {
    this.readsInFlight++
    return this.generation
  }

  end(): void {
    this.readsInFlight--
    // Invalidation marks only matter to reads in flight: with none left, forget them all.
    if (this.readsInFlight === 0) this.invalidatedAt.clear()
  }

  /** Caches what a read that began at `startedAt` found, unless `id` was invalidated meanwhile. */
  store(id: string, value: T | null, startedAt: number): void {
    if (this.flushedAt > startedAt || (this.invalidatedAt.get(id) ?? -1) > startedAt) return
    if (value === null) {
      if (this.maxMissing === 0) return
      this.missing.set(id, this.now() + this.missingTtlMs)
      if (this.missing.size > this.maxMissing) this.missing.shift()
      return
    }
    if (this.maxEntries === 0) return
    this.missing.delete(id)
    this.entries.set(id, { value, expiresAt: this.now() + this.ttlMs })
    if (this.entries.size > this.maxEntries) this.entries.shift()
  }

  /** The value cached for `id`, if any, to update in place (e.g. fresher credits); no lookup stats. */
  peekValue(id: string): T | undefined {
    return this.entries.get(id)?.value
  }

  invalidate(id: string): void {
    this.entries.delete(id)
    this.missing.delete(id)
    this.mark(id)
  }

  /** For a newly created id: drops a cached "unknown", and keeps reads in flight from caching one. */
  forgetMissing(id: string): void {
    this.missing.delete(id)
    this.mark(id)
  }

  private mark(id: string): void {
    this.generation++
    if (this.readsInFlight === 0) return
    this.invalidatedAt.set(id, this.generation)
    // The guard map only needs recent ids; past its bound, one flush is the conservative answer.
    if (this.invalidatedAt.size > Math.max(1000, this.maxEntries)) this.flush()
  }

  /** Drops everything, e.g. after a reconnect, when invalidations may have been missed. */
  flush(): void {
    this.generation++
    this.flushedAt = this.generation
    this.entries.clear()
    this.missing.clear()
    this.invalidatedAt.clear()
  }
}
