/**
 * `RedisStore`: the `KeyStore` for services that run as many processes, on one Redis node or a
 * Redis Cluster. It composes the parts in this folder: records and owner indexes change through
 * single-slot Lua scripts (`scripts.ts`, `key-layout.ts`) that also publish the change
 * (`change-feed.ts`), so every store drops it from its process-local cache (`record-cache.ts`)
 * within a pub/sub hop; credits are pools spent by a Lua twin of core's `spendFrom`
 * (`credit-pools.ts`) inside the one-script charge of a request (`charge.ts`); usage counters,
 * rankings, `lastUsedAt` and the optional stream sink are `usage-store.ts`. When Redis is
 * unreachable, `failMode` decides: `closed` fails every call fast with `StoreError` (keyward answers
 * `UNAVAILABLE`), `open` keeps verifying cached keys on in-memory insurance limiters.
 */
import { createHash } from 'node:crypto'
import { DuplicateIdError, InvalidArgumentError, StoreError } from '@keyward/core'
import type {
  AbuseState,
  ChargeRequest,
  ChargeResult,
  KeyChanges,
  KeyStore,
  ListOptions,
  ListPage,
  OwnerChanges,
  SharedGuardState,
  StoredKey,
  StoredOwner,
  StoredUsage,
  UsageBatch,
  UsageKeyAmounts,
  UsageRangeQuery,
  UsageRankingQuery,
} from '@keyward/core/store'
import { AbuseLayout } from './abuse-layout.ts'
import { RedisAbuse } from './abuse-state.ts'
import { ChangeFeed } from './change-feed.ts'
import { type ChargeScript, RedisCharge } from './charge.ts'
import { CommandGuard, type RedisClient } from './command-guard.ts'
import { CreditPools } from './credit-pools.ts'
import { decodeCursor, type Envelope, encodeCursor, parseEnvelope } from './envelope.ts'
import { isStorableId, KeyLayout } from './key-layout.ts'
import { LocalFirstLimits } from './local-first.ts'
import { type FailMode, type RedisStoreOptions, resolveRedisStoreOptions } from './options.ts'
import { OwnerRecords } from './owner-records.ts'
import { RecordReader } from './record-reader.ts'
import {
  CHARGE_SCRIPT,
  CREATE_SCRIPT,
  DELETE_SCRIPT,
  OWNER_SCRIPT,
  REPLACE_SCRIPT,
  ROTATE_SCRIPT,
  SYNC_SCRIPT,
  WRITE_POOL_SCRIPT,
} from './scripts.ts'
import { RedisSharedGuard } from './shared-guard.ts'
import { UsageLayout } from './usage-layout.ts'
import { RedisUsage } from './usage-store.ts'
import { WriteBatch } from './write-batch.ts'

type ScriptReply = number | null

/** ioredis clients with this store's scripts defined on them. */
interface ScriptedClient {
  keywardCreate(...args: string[]): Promise<ScriptReply>
  keywardReplace(...args: string[]): Promise<ScriptReply>
  keywardRotate(...args: string[]): Promise<ScriptReply>
  keywardDelete(...args: string[]): Promise<ScriptReply>
  keywardOwner(...args: string[]): Promise<ScriptReply>
  keywardWritePool(...args: string[]): Promise<ScriptReply>
  keywardSync(...args: (string | number)[]): Promise<number[]>
}

/**
 * The charge script, sent as `EVALSHA` (its text only when the server lacks it): see `charge.ts`.
 * The charges of one event-loop turn leave in one socket write (`write-batch.ts`).
 */
function chargeScript(client: RedisClient): ChargeScript {
  const sha = createHash('sha1').update(CHARGE_SCRIPT).digest('hex')
  const batch = new WriteBatch(client)
  // The key count comes first in `args`; ioredis flattens the array into the command.
  const call = client as unknown as Record<'evalsha' | 'eval', (...args: unknown[]) => Promise<never>>
  return {
    bySha: (args) => {
      batch.hold()
      return call.evalsha(sha, args)
    },
    withText: (args) => call.eval(CHARGE_SCRIPT, args),
  }
}

/** What a compare-and-set write answers: 1 written, 0 changed meanwhile, -1 gone, -2 id taken. */
const WRITTEN = 1
const CHANGED_MEANWHILE = 0
const GONE = -1
const ID_TAKEN = -2
const MAX_CAS_ATTEMPTS = 16

function requireStorableId(id: string): void {
  if (!isStorableId(id))
    throw new InvalidArgumentError('id', `${JSON.stringify(id)} cannot be stored in Redis`)
}

const CLOSED = 'keyward: this RedisStore is closed'

/**
 * A `KeyStore` on Redis or Redis Cluster, shared by every process that uses the same Redis and
 * `keyPrefix`. Needs a configured `secret` in `createKeyward`.
 *
 * @example
 * import Redis from 'ioredis'
 * const redis = new Redis(process.env.REDIS_URL)
 * const keyward = createKeyward({ secret: process.env.KEYWARD_SECRET, store: new RedisStore({ client: redis }) })
 */
export class RedisStore implements KeyStore {
  readonly shared = true
  readonly failMode: FailMode
  readonly usageLog: boolean
  /** Abuse-signal counters, claims and histories, shared by every process (`abuse-state.ts`). */
  readonly abuse: AbuseState
  /** The brute-force guard's failure counts and blocks, shared by every process on this Redis. */
  readonly sharedGuard: SharedGuardState
  private readonly client: RedisClient
  private readonly scripts: ScriptedClient
  private readonly layout: KeyLayout
  private readonly guard: CommandGuard
  private readonly pools: CreditPools
  private readonly records: RecordReader
  private readonly owners: OwnerRecords
  private readonly localFirst: LocalFirstLimits
  private readonly charger: RedisCharge
  private readonly feed: ChangeFeed
  private readonly usage: RedisUsage
  private readonly listeners = new Set<(id: string) => void>()
  private readonly keyPrefix: string
  private closed = false

  constructor(options: RedisStoreOptions) {
    const resolved = resolveRedisStoreOptions(options)
    const client = resolved.client
    this.client = client
    this.keyPrefix = resolved.keyPrefix
    this.failMode = resolved.failMode
    this.usageLog = resolved.usageStream !== null
    this.layout = new KeyLayout(resolved.keyPrefix)
    this.guard = new CommandGuard(client, resolved.commandTimeoutMs)

    for (const [name, lua, numberOfKeys] of [
      ['keywardCreate', CREATE_SCRIPT, 5],
      ['keywardReplace', REPLACE_SCRIPT, 3],
      ['keywardRotate', ROTATE_SCRIPT, 6],
      ['keywardDelete', DELETE_SCRIPT, 4],
      ['keywardOwner', OWNER_SCRIPT, 2],
      ['keywardWritePool', WRITE_POOL_SCRIPT, 1],
    ] as const) {
      client.defineCommand(name, { lua, numberOfKeys })
    }
    client.defineCommand('keywardSync', { lua: SYNC_SCRIPT })
    this.scripts = client as unknown as ScriptedClient
    const live = () => this.feed.subscribed
    this.pools = new CreditPools(client, this.scripts, this.guard)
    this.records = new RecordReader(client, this.guard, this.layout, this.pools, resolved, () => this.feed)
    this.owners = new OwnerRecords(
      client,
      this.guard,
      this.layout,
      this.pools,
      (...args) => this.scripts.keywardOwner(...args),
      (digest) => this.feed.message('o', digest),
      live,
      resolved,
    )
    this.localFirst = new LocalFirstLimits(this.guard, (...args) => this.scripts.keywardSync(...args))
    this.charger = new RedisCharge(
      this.guard,
      chargeScript(client),
      this.layout,
      this.localFirst,
      resolved.failMode,
      // Keep this process's view of the credits current for `keys.get` / `owners.get`.
      (request, remaining, refilledAt) => {
        if (request.credits?.from === 'key') this.records.spent(request.keyId, remaining, refilledAt)
        else this.owners.spent(request.ownerId, remaining, refilledAt)
      },
    )
    this.feed = new ChangeFeed(
      client,
      this.guard,
      this.layout,
      {
        created: (id) => this.records.created(id),
        changed: (id) => {
          this.records.invalidate(id)
          this.notify(id)
        },
        ownerChanged: (digest) => this.owners.invalidate(digest),
        flush: () => {
          this.records.flush()
          this.owners.flush()
        },
      },
      resolved.gapCheckMs,
    )
    this.usage = new RedisUsage(client, this.guard, new UsageLayout(resolved.keyPrefix), resolved.usageStream)
    this.abuse = new RedisAbuse(client, this.guard, new AbuseLayout(resolved.keyPrefix))
    this.sharedGuard = new RedisSharedGuard(client, this.guard, this.layout, this.feed)
  }

  /** The key prefix this store writes under (for tooling and tests). */
  get prefix(): string {
    return this.keyPrefix
  }

  // ——— records ———

  async create(record: StoredKey): Promise<void> {
    this.assertOpen()
    requireStorableId(record.id)
    const envelope: Envelope = { r: record, p: record.id }
    // Only if absent: a create that turns out to be a duplicate must not reset the existing pool.
    if (record.credits !== null) {
      await this.pools.write(this.layout.keyPool(record.ownerId, record.id), record.credits, true)
    }
    const created = await this.guard.run('create', () =>
      this.scripts.keywardCreate(
        this.layout.record(record.id),
        this.layout.owner(record.ownerId),
        this.layout.sequence(),
        this.layout.version(),
        this.layout.ends(),
        JSON.stringify(envelope),
        record.id,
        this.layout.channel(),
        this.feed.message('c', record.id),
        endOf(record),
      ),
    )
    if (created !== WRITTEN) throw new DuplicateIdError(record.id)
    this.records.created(record.id)
  }

  async get(id: string): Promise<StoredKey | null> {
    this.assertOpen()
    const found = await this.records.lookup(id)
    return found === null ? null : found.current()
  }

  peek(id: string): StoredKey | null | undefined {
    return this.closed ? undefined : this.records.peek(id)
  }

  async update(id: string, changes: KeyChanges): Promise<StoredKey | null> {
    this.assertOpen()
    if (!isStorableId(id)) return null
    // A replaced key spends from its successor's pool: its own credit settings no longer matter.
    const ownsPool = (envelope: Envelope) => changes.credits !== undefined && envelope.r.rotatedTo === null
    const result = await this.replace(id, 'update', async (before, raw) => {
      const after: Envelope = { ...before, r: { ...before.r, ...changes } }
      // New credits reach the pool before the record says so: a spend in between finds a pool.
      if (ownsPool(before) && changes.credits != null)
        await this.pools.write(this.layout.keyPool(before.r.ownerId, before.p), changes.credits, false)
      const reply = await this.guard.run('update', () =>
        this.scripts.keywardReplace(
          this.layout.record(id),
          this.layout.version(),
          this.layout.ends(),
          raw,
          JSON.stringify(after),
          this.layout.channel(),
          this.feed.message('u', id),
          id,
          endOf(after.r),
        ),
      )
      return { reply, after }
    })
    if (result === null) return null
    if (ownsPool(result.before) && changes.credits === null)
      await this.pools.delete(this.layout.keyPool(result.after.r.ownerId, result.after.p))
    this.changed(id)
    return (await this.records.withLiveCredits(result.after)).current()
  }

  async listByOwner(ownerId: string, options: ListOptions): Promise<ListPage> {
    this.assertOpen()
    let after = '-inf'
    if (options.cursor !== undefined) {
      const decoded = decodeCursor(options.cursor)
      // An unknown or foreign cursor yields an empty page rather than restarting from the top.
      if (decoded === null) return { records: [], cursor: null }
      after = `(${decoded}`
    }
    const ownerKey = this.layout.owner(ownerId)
    const window = await this.guard.run('list', () =>
      this.client.zrangebyscore(ownerKey, after, '+inf', 'WITHSCORES', 'LIMIT', 0, options.limit + 1),
    )
    const ids: string[] = []
    const scores: string[] = []
    for (let index = 0; index + 1 < window.length; index += 2) {
      ids.push(window[index] as string)
      scores.push(window[index + 1] as string)
    }
    const more = ids.length > options.limit
    const pageIds = ids.slice(0, options.limit)
    if (pageIds.length === 0) return { records: [], cursor: null }
    const values = await this.guard.run('list', () =>
      this.client.mget(pageIds.map((id) => this.layout.record(id))),
    )
    const envelopes = values.filter((value): value is string => value !== null).map(parseEnvelope)
    const records = await Promise.all(
      envelopes.map(async (envelope) => (await this.records.withLiveCredits(envelope)).current()),
    )
    const lastScore = scores[pageIds.length - 1]
    return { records, cursor: more && lastScore !== undefined ? encodeCursor(lastScore) : null }
  }

  async rotate(id: string, successor: StoredKey, changes: KeyChanges): Promise<StoredKey | null> {
    this.assertOpen()
    if (!isStorableId(id)) return null
    requireStorableId(successor.id)
    const result = await this.replace(id, 'rotate', async (before, raw) => {
      const after: Envelope = { ...before, r: { ...before.r, ...changes } }
      // The successor inherits the live pool, so credits spent on the old key during its grace
      // period and on the new one come out of one counter, exactly once.
      const successorEnvelope: Envelope = { r: successor, p: before.p }
      if (successor.credits !== null && before.r.credits === null) {
        await this.pools.write(this.layout.keyPool(before.r.ownerId, before.p), successor.credits, true)
      }
      const reply = await this.guard.run('rotate', () =>
        this.scripts.keywardRotate(
          this.layout.record(id),
          this.layout.record(successor.id),
          this.layout.owner(successor.ownerId),
          this.layout.sequence(),
          this.layout.version(),
          this.layout.ends(),
          raw,
          JSON.stringify(after),
          JSON.stringify(successorEnvelope),
          successor.id,
          this.layout.channel(),
          this.feed.message('u', id),
          id,
          endOf(after.r),
          endOf(successor),
        ),
      )
      if (reply === ID_TAKEN) throw new DuplicateIdError(successor.id)
      return { reply, after }
    })
    if (result === null) return null
    this.records.created(successor.id)
    this.changed(id)
    return (await this.records.withLiveCredits(result.after)).current()
  }

  async delete(id: string): Promise<StoredKey | null> {
    this.assertOpen()
    if (!isStorableId(id)) return null
    const result = await this.replace(id, 'delete', async (before, raw) => {
      const reply = await this.guard.run('delete', () =>
        this.scripts.keywardDelete(
          this.layout.record(id),
          this.layout.owner(before.r.ownerId),
          this.layout.version(),
          this.layout.ends(),
          raw,
          id,
          this.layout.channel(),
          this.feed.message('u', id),
        ),
      )
      return { reply, after: before }
    })
    if (result === null) return null
    await this.usage.forget(id)
    // The pool lives in its own slot, so it goes after the record; an orphaned pool is harmless.
    if (result.before.r.rotatedTo === null && result.before.r.credits !== null) {
      await this.pools.delete(this.layout.keyPool(result.before.r.ownerId, result.before.p))
    }
    this.changed(id)
    return result.before.r
  }

  async purge(before: number, limit: number): Promise<string[]> {
    this.assertOpen()
    const ids = await this.guard.run('purge', () =>
      this.client.zrangebyscore(this.layout.ends(), '-inf', before, 'LIMIT', 0, limit),
    )
    const purged: string[] = []
    for (const id of ids) if ((await this.delete(id)) !== null) purged.push(id)
    return purged
  }

  // ——— what requests spend ———

  charge(request: ChargeRequest): Promise<ChargeResult> {
    // Not async: the charger's promise is handed on as it is, one promise fewer per request.
    if (this.closed) return Promise.reject(new StoreError(CLOSED))
    return this.charger.charge(request)
  }

  /**
   * `charge` without a round trip, when none is needed (`KeyStore.chargeNow`): no credits, and
   * every limit local-first or known to be over its limit. `undefined` otherwise.
   */
  chargeNow(request: ChargeRequest): ChargeResult | undefined {
    return this.closed ? undefined : this.charger.chargeNow(request)
  }

  // ——— owners ———

  getOwner(ownerId: string): Promise<StoredOwner | null> {
    this.assertOpen()
    return this.owners.get(ownerId)
  }

  peekOwner(ownerId: string): StoredOwner | null | undefined {
    return this.closed ? undefined : this.owners.peek(ownerId)
  }

  putOwner(owner: StoredOwner): Promise<void> {
    this.assertOpen()
    return this.owners.put(owner)
  }

  updateOwner(ownerId: string, changes: OwnerChanges): Promise<StoredOwner | null> {
    this.assertOpen()
    return this.owners.update(ownerId, changes)
  }

  deleteOwner(ownerId: string): Promise<StoredOwner | null> {
    this.assertOpen()
    return this.owners.delete(ownerId)
  }

  // ——— usage ———

  async recordUsage(batch: UsageBatch): Promise<void> {
    this.assertOpen()
    await this.usage.record(batch)
  }

  async readUsage(query: UsageRangeQuery): Promise<(StoredUsage | null)[]> {
    this.assertOpen()
    return this.usage.read(query)
  }

  async rankUsage(query: UsageRankingQuery): Promise<UsageKeyAmounts[]> {
    this.assertOpen()
    return this.usage.rank(query)
  }

  async lastUsed(ids: readonly string[]): Promise<(number | null)[]> {
    this.assertOpen()
    return this.usage.lastUsed(ids)
  }

  /**
   * The record cache since the store was made: lookups answered from it (`hits`, an unknown id
   * remembered as unknown included), lookups that went to Redis (`misses`), entries held (`size`).
   */
  cacheStats(): { hits: number; misses: number; size: number } {
    return this.records.stats()
  }

  // ——— change notifications ———

  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.listeners.clear()
    // Local-first points counted here reach Redis before the store goes (best effort).
    await this.localFirst.flush().catch(() => {})
    this.localFirst.close()
    this.records.flush()
    this.owners.flush()
    this.feed.close()
  }

  // ——— internals ———

  /** True while change notices are flowing (tests read it to wait for the subscription). */
  private get subscribed(): boolean {
    return this.feed.subscribed
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(CLOSED)
  }

  /**
   * Read, then a compare-and-set `write` against the value read, retried when another writer got
   * in between. `write` answers with the script's reply and the envelope it wrote. `null` when the
   * record does not exist.
   */
  private async replace(
    id: string,
    operation: string,
    write: (before: Envelope, raw: string) => Promise<{ reply: ScriptReply; after: Envelope }>,
  ): Promise<{ before: Envelope; after: Envelope } | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.guard.run(operation, () => this.client.get(this.layout.record(id)))
      if (raw === null) return null
      const before = parseEnvelope(raw)
      const { reply, after } = await write(before, raw)
      if (reply === GONE) return null
      if (reply === WRITTEN) return { before, after }
      if (reply !== CHANGED_MEANWHILE) break
    }
    throw new StoreError(`keyward: key ${id} kept changing during ${operation}; try again`)
  }

  /** A change made here: drop it from the cache and tell the listeners without waiting for pub/sub. */
  private changed(id: string): void {
    this.records.invalidate(id)
    this.notify(id)
  }

  private notify(id: string): void {
    for (const listener of this.listeners) {
      try {
        listener(id)
      } catch {
        // A listener's bug must not break the store or the other listeners.
      }
    }
  }
}

/** When a record stopped being usable, for the `ends` index: '' while it is still usable. */
function endOf(record: StoredKey): string {
  const { revokedAt, expiresAt } = record
  const end = revokedAt === null ? expiresAt : expiresAt === null ? revokedAt : Math.min(revokedAt, expiresAt)
  return end === null ? '' : String(end)
}
