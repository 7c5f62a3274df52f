/**
 * The process-local record cache in front of Redis: bounded (least recently used entries go
 * first), each entry with a safety TTL in case an invalidation is ever lost, plus short-lived
 * negative entries for ids that do not exist. A generation counter guards against a read that
 * started before an invalidation and finishes after it: such a read is returned, never cached.
 */

interface Entry<T> {
  value: T | null
  expiresAt: number
}

export interface CacheLookup<T> {
  /** The cached value (`null` for a cached miss). */
  value: T | null
  /** True when the entry is past its TTL: usable only when the backend cannot be asked. */
  stale: boolean
}

export class RecordCache<T> {
  private readonly entries = new Map<string, Entry<T>>()
  private readonly invalidatedAt = new Map<string, number>()
  private generation = 0
  private flushedAt = 0
  private readsInFlight = 0

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly negativeTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size
  }

  lookup(id: string): CacheLookup<T> | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) return undefined
    // Re-insert so the Map's order stays least-recently-used first.
    this.entries.delete(id)
    this.entries.set(id, entry)
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
    if (this.maxEntries === 0) return
    if (value === null && this.negativeTtlMs === 0) return
    if (this.flushedAt > startedAt || (this.invalidatedAt.get(id) ?? -1) > startedAt) return
    this.entries.delete(id)
    this.entries.set(id, {
      value,
      expiresAt: this.now() + (value === null ? this.negativeTtlMs : this.ttlMs),
    })
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
  }

  /** Replaces a cached value in place (e.g. fresher credits), only if it is cached. */
  refresh(id: string, update: (value: T) => T): void {
    const entry = this.entries.get(id)
    if (entry?.value != null) entry.value = update(entry.value)
  }

  invalidate(id: string): void {
    this.entries.delete(id)
    this.mark(id)
  }

  /** For a newly created id: drops a cached "unknown", and keeps reads in flight from caching one. */
  forgetMissing(id: string): void {
    if (this.entries.get(id)?.value === null) this.entries.delete(id)
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
    this.invalidatedAt.clear()
  }
}
