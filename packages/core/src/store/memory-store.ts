/**
 * `MemoryStore`: the embedded default. Everything lives in this process — records in a `Map`, the
 * owner index as insertion-ordered id lists, rate limits in rate-limiter-flexible's
 * `RateLimiterMemory`, usage counters in `MemoryUsage`, abuse-signal state in `MemoryAbuse`. Operations are synchronous underneath, so
 * each one is atomic.
 */
import { spendFrom } from '../credits.ts'
import { DuplicateIdError } from '../errors.ts'
import type { StoredKey, StoredOwner } from '../types.ts'
import type { AbuseState } from './abuse-interface.ts'
import { InProcessLimits } from './in-process-limits.ts'
import type {
  ChargeRequest,
  ChargeResult,
  KeyChanges,
  KeyStore,
  ListOptions,
  ListPage,
  OwnerChanges,
} from './interface.ts'
import { MemoryAbuse } from './memory-abuse.ts'
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
  readonly abuse: AbuseState = new MemoryAbuse()
  private readonly records = new Map<string, StoredKey>()
  private readonly owners = new Map<string, string[]>()
  private readonly listeners = new Set<(id: string) => void>()
  private readonly ownerRecords = new Map<string, StoredOwner>()
  private readonly limits = new InProcessLimits()
  private readonly usage = new MemoryUsage()

  async create(record: StoredKey): Promise<void> {
    this.insert(record)
  }

  async get(id: string): Promise<StoredKey | null> {
    return this.records.get(id) ?? null
  }

  peek(id: string): StoredKey | null | undefined {
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

  async delete(id: string): Promise<StoredKey | null> {
    const record = this.records.get(id)
    if (record === undefined) return null
    this.records.delete(id)
    this.usage.forget(id)
    const ids = this.owners.get(record.ownerId)
    if (ids !== undefined) {
      const index = ids.indexOf(id)
      if (index !== -1) ids.splice(index, 1)
      if (ids.length === 0) this.owners.delete(record.ownerId)
    }
    this.notify(id)
    return record
  }

  async purge(before: number, limit: number): Promise<string[]> {
    const ended: [number, string][] = []
    for (const record of this.records.values()) {
      const end = endOf(record)
      if (end !== null && end <= before) ended.push([end, record.id])
    }
    ended.sort((a, b) => a[0] - b[0])
    const ids = ended.slice(0, limit).map(([, id]) => id)
    for (const id of ids) await this.delete(id)
    return ids
  }

  charge(request: ChargeRequest): Promise<ChargeResult> {
    const now = this.chargeNow(request)
    if (now !== undefined) return Promise.resolve(now)
    return this.limits
      .consume(request.limits, request.chainId, request.ownerId)
      .then((outcome) => this.spend(request, outcome))
  }

  /** `charge`, answered at once (see `KeyStore.chargeNow`): everything here is in memory. */
  chargeNow(request: ChargeRequest): ChargeResult | undefined {
    if (request.limits.length === 0) return this.spend(request, noLimits())
    const outcome = this.limits.consumeNow(request.limits, request.chainId, request.ownerId)
    return outcome === undefined ? undefined : this.spend(request, outcome)
  }

  /** Credits, once the limits passed; synchronous, so atomic. */
  private spend(request: ChargeRequest, outcome: ChargeResult): ChargeResult {
    if (outcome.limited || request.credits === null) return outcome
    // The key's credits live on the newest key of its chain, the owner's on the owner.
    const holder =
      request.credits.from === 'key'
        ? this.records.get(request.keyId)
        : this.ownerRecords.get(request.ownerId)
    if (holder?.credits == null) return outcome
    const { credits, spend } = spendFrom(holder.credits, request.credits.cost, request.now)
    // Swapped in place: the record keeps its identity, so views cached per record stay valid.
    holder.credits = credits
    outcome.credits = spend
    return outcome
  }

  async getOwner(ownerId: string): Promise<StoredOwner | null> {
    return this.ownerRecords.get(ownerId) ?? null
  }

  peekOwner(ownerId: string): StoredOwner | null | undefined {
    return this.ownerRecords.get(ownerId) ?? null
  }

  async putOwner(owner: StoredOwner): Promise<void> {
    this.ownerRecords.set(owner.id, { ...owner })
  }

  async updateOwner(ownerId: string, changes: OwnerChanges): Promise<StoredOwner | null> {
    const owner = this.ownerRecords.get(ownerId)
    if (owner === undefined) return null
    const updated = { ...owner, ...changes }
    this.ownerRecords.set(ownerId, updated)
    return updated
  }

  async deleteOwner(ownerId: string): Promise<StoredOwner | null> {
    const owner = this.ownerRecords.get(ownerId)
    if (owner === undefined) return null
    this.ownerRecords.delete(ownerId)
    return owner
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

function noLimits(): ChargeResult {
  return { states: [], limited: false, retryAfterMs: 0, credits: null }
}

/** When a record stopped being usable: its revocation or expiry, whichever came first. */
function endOf(record: StoredKey): number | null {
  const { revokedAt, expiresAt } = record
  if (revokedAt === null) return expiresAt
  return expiresAt === null ? revokedAt : Math.min(revokedAt, expiresAt)
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  return /^[0-9A-Za-z]{12}$/.test(id) ? id : null
}
