/**
 * `MemoryStore`: the embedded default. Everything lives in this process — records in a `Map`, the
 * owner index as insertion-ordered id lists, rate limits in rate-limiter-flexible's
 * `RateLimiterMemory`, usage counters in `MemoryUsage`. Operations are synchronous underneath, so
 * each one is atomic.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { spendFrom } from '../credits.ts'
import { DuplicateIdError } from '../errors.ts'
import type { ResolvedPolicy, StoredKey } from '../types.ts'
import type { CreditSpend, KeyChanges, KeyStore, ListOptions, ListPage, PolicyLimiter } from './interface.ts'
import { MemoryUsage } from './memory-usage.ts'
import type {
  StoredUsage,
  UsageBatch,
  UsageKeyAmounts,
  UsageRangeQuery,
  UsageRankingQuery,
} from './usage-interface.ts'

export class MemoryStore implements KeyStore {
  readonly shared = false
  readonly usageLog: boolean = false
  private readonly records = new Map<string, StoredKey>()
  private readonly owners = new Map<string, string[]>()
  private readonly listeners = new Set<(id: string) => void>()
  private readonly usage = new MemoryUsage()

  async create(record: StoredKey): Promise<void> {
    this.insert(record)
  }

  async get(id: string): Promise<StoredKey | null> {
    return this.records.get(id) ?? null
  }

  async update(id: string, changes: KeyChanges): Promise<StoredKey | null> {
    const updated = this.apply(id, changes)
    if (updated !== null) this.notify(id)
    return updated
  }

  async listByOwner(ownerId: string, options: ListOptions): Promise<ListPage> {
    const ids = this.owners.get(ownerId) ?? []
    let start = 0
    if (options.cursor !== undefined) {
      // An unknown or foreign cursor yields an empty page rather than restarting from the top.
      const after = decodeCursor(options.cursor)
      const index = after === null ? -1 : ids.indexOf(after)
      start = index === -1 ? ids.length : index + 1
    }
    const page = ids.slice(start, start + options.limit)
    const records = page.map((id) => this.records.get(id)).filter((record) => record !== undefined)
    const more = start + page.length < ids.length
    const last = page.at(-1)
    return { records, cursor: more && last !== undefined ? encodeCursor(last) : null }
  }

  async rotate(id: string, successor: StoredKey, changes: KeyChanges): Promise<StoredKey | null> {
    if (!this.records.has(id)) return null
    this.insert(successor)
    const updated = this.apply(id, changes)
    this.notify(id)
    return updated
  }

  async spendCredits(id: string, cost: number, now: number): Promise<CreditSpend | null> {
    const record = this.records.get(id)
    if (record?.credits == null) return null
    const { credits, spend } = spendFrom(record.credits, cost, now)
    // Swapped in place: the record keeps its identity, so views cached per record stay valid.
    record.credits = credits
    return spend
  }

  createLimiter(policy: ResolvedPolicy): PolicyLimiter {
    return new RateLimiterMemory({
      keyPrefix: `rl:${policy.name}:${policy.points}:${policy.duration}`,
      points: policy.points,
      duration: policy.duration,
      blockDuration: policy.blockDuration,
    })
  }

  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async recordUsage(batch: UsageBatch): Promise<void> {
    this.usage.record(batch)
  }

  async readUsage(query: UsageRangeQuery): Promise<(StoredUsage | null)[]> {
    return this.usage.read(query)
  }

  async rankUsage(query: UsageRankingQuery): Promise<UsageKeyAmounts[]> {
    return this.usage.rank(query)
  }

  async lastUsed(ids: readonly string[]): Promise<(number | null)[]> {
    return this.usage.lastUsed(ids)
  }

  async close(): Promise<void> {
    this.listeners.clear()
  }

  private insert(record: StoredKey): void {
    if (this.records.has(record.id)) throw new DuplicateIdError(record.id)
    this.records.set(record.id, record)
    const ids = this.owners.get(record.ownerId)
    if (ids === undefined) this.owners.set(record.ownerId, [record.id])
    else ids.push(record.id)
  }

  private apply(id: string, changes: KeyChanges): StoredKey | null {
    const record = this.records.get(id)
    if (record === undefined) return null
    const updated = { ...record, ...changes }
    this.records.set(id, updated)
    return updated
  }

  private notify(id: string): void {
    for (const listener of this.listeners) listener(id)
  }
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  return /^[0-9A-Za-z]{12}$/.test(id) ? id : null
}
