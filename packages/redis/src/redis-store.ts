/**
 * `RedisStore`: the `KeyStore` for services that run as many processes, on one Redis node or a
 * Redis Cluster. Records and owner indexes change through single-slot Lua scripts that also
 * publish the change; every store subscribed to the channel drops the id from its process-local
 * cache, so a revoke is enforced everywhere within a pub/sub hop. Credits are per-pool counters
 * spent by a Lua mirror of core's `spendFrom`; rate limits run on rate-limiter-flexible. When Redis
 * is unreachable, `failMode` decides: `closed` fails every call fast with `StoreError` (keyward
 * answers `UNAVAILABLE`), `open` keeps verifying cached keys on in-memory insurance limiters.
 */
import { randomBytes } from 'node:crypto'
import {
  ConfigError,
  type CreditSpend,
  type KeyChanges,
  type KeyStore,
  type ListOptions,
  type ListPage,
  type PolicyLimiter,
  type ResolvedPolicy,
  type StoredCredits,
  type StoredKey,
  StoreError,
} from '@keyward/core'
import { CommandGuard, type RedisClient } from './command-guard.ts'
import { isStorableId, KeyLayout } from './key-layout.ts'
import { RecordCache } from './record-cache.ts'
import { RedisPolicyLimiter } from './redis-limiter.ts'
import { CREATE_SCRIPT, REPLACE_SCRIPT, ROTATE_SCRIPT, SPEND_SCRIPT, WRITE_POOL_SCRIPT } from './scripts.ts'

export type FailMode = 'open' | 'closed'

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Redis.Cluster`. The store never closes it. */
  client: RedisClient
  /** Prefix of every key and of the pub/sub channel. @default 'kw:' */
  keyPrefix?: string
  /**
   * What verification does while Redis is unreachable. `closed`: fail fast with `StoreError`
   * (keyward answers `UNAVAILABLE`, HTTP 503). `open`: keys already in this process's cache keep
   * verifying, rate-limited by in-memory insurance limiters; unknown keys and credit spends still
   * fail. @default 'closed'
   */
  failMode?: FailMode
  /** Longest wait for one Redis command before it counts as failed, in ms. @default 500 */
  commandTimeoutMs?: number
  /** Records kept in the process-local cache (0 disables it). @default 10000 */
  cacheSize?: number
  /** Safety TTL of a cached record, in case an invalidation is lost, in ms. @default 60000 */
  cacheTtlMs?: number
  /** How long an unknown id is remembered as unknown, in ms (0 disables). @default 1000 */
  negativeCacheTtlMs?: number
  /**
   * Oldest `credits.remaining` a cached record may show, in ms: other processes' spends are not
   * broadcast, so a cached record re-reads its pool (one small read) once it is older than this.
   * Spending is always exact; this only bounds what `keys.get` shows. @default 1000
   */
  creditsMaxAgeMs?: number
  /**
   * How often the store checks that it has heard every change notice (one small read), in ms. A
   * lost notice (pub/sub is at-most-once) is detected within about two periods and clears the
   * cache. @default 500
   */
  gapCheckMs?: number
}

/** What one Redis value holds: the record and the id of the credit pool it spends from. */
interface Envelope {
  r: StoredKey
  /** Pool id: the key's own id, or, after a rotation, the pool its predecessor used. */
  p: string
}

interface Cached {
  record: StoredKey
  pool: string
  /** When `record.credits` was last read from (or written by) the pool, epoch ms. */
  creditsReadAt: number
}

type ScriptReply = number | null

/** ioredis clients with this store's scripts defined on them. */
interface ScriptedClient {
  keywardCreate(...args: string[]): Promise<ScriptReply>
  keywardReplace(...args: string[]): Promise<ScriptReply>
  keywardRotate(...args: string[]): Promise<ScriptReply>
  keywardSpend(...args: string[]): Promise<[number, string, string, string] | null>
  keywardWritePool(...args: string[]): Promise<ScriptReply>
}

const MAX_CAS_ATTEMPTS = 16

function positiveInteger(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(option, `must be an integer ≥ ${min}`)
  }
  return value
}

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
  private readonly client: RedisClient
  private readonly scripts: ScriptedClient
  private readonly layout: KeyLayout
  private readonly guard: CommandGuard
  private readonly cache: RecordCache<Cached>
  private readonly pending = new Map<string, Promise<Cached | null>>()
  private readonly pendingCredits = new Map<string, Promise<Cached>>()
  private readonly creditsMaxAgeMs: number
  private readonly listeners = new Set<(id: string) => void>()
  private readonly origin = randomBytes(9).toString('base64url')
  private readonly keyPrefix: string
  private readonly subscriber: RedisClient
  private subscribed = false
  /** Highest notice version heard since (re)subscribing; `null` until the baseline is known. */
  private seenVersion: number | null = null
  private versionAtLastCheck: number | null = null
  private gapTimer: NodeJS.Timeout | undefined
  private readonly gapCheckMs: number
  private resubscribeTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigError('options', 'must be an object with a `client`')
    }
    const client = options.client
    if (client === null || typeof client !== 'object' || typeof client.duplicate !== 'function') {
      throw new ConfigError('client', 'must be an ioredis Redis or Redis.Cluster instance')
    }
    const keyPrefix = options.keyPrefix ?? 'kw:'
    if (typeof keyPrefix !== 'string' || !/^[A-Za-z0-9:._-]{0,64}$/.test(keyPrefix)) {
      throw new ConfigError('keyPrefix', 'must be at most 64 characters of A-Z a-z 0-9 : . _ - (no braces)')
    }
    const failMode = options.failMode ?? 'closed'
    if (failMode !== 'open' && failMode !== 'closed') {
      throw new ConfigError('failMode', "must be 'open' or 'closed'")
    }
    this.client = client
    this.keyPrefix = keyPrefix
    this.failMode = failMode
    this.layout = new KeyLayout(keyPrefix)
    this.guard = new CommandGuard(
      client,
      positiveInteger('commandTimeoutMs', options.commandTimeoutMs, 500, 1),
    )
    this.creditsMaxAgeMs = positiveInteger('creditsMaxAgeMs', options.creditsMaxAgeMs, 1_000, 0)
    this.gapCheckMs = positiveInteger('gapCheckMs', options.gapCheckMs, 500, 10)
    this.cache = new RecordCache(
      positiveInteger('cacheSize', options.cacheSize, 10_000, 0),
      positiveInteger('cacheTtlMs', options.cacheTtlMs, 60_000, 1),
      positiveInteger('negativeCacheTtlMs', options.negativeCacheTtlMs, 1_000, 0),
    )

    for (const [name, lua, numberOfKeys] of [
      ['keywardCreate', CREATE_SCRIPT, 4],
      ['keywardReplace', REPLACE_SCRIPT, 2],
      ['keywardRotate', ROTATE_SCRIPT, 5],
      ['keywardSpend', SPEND_SCRIPT, 1],
      ['keywardWritePool', WRITE_POOL_SCRIPT, 1],
    ] as const) {
      client.defineCommand(name, { lua, numberOfKeys })
    }
    this.scripts = client as unknown as ScriptedClient

    this.subscriber = this.startSubscriber()
  }

  // ——— records ———

  async create(record: StoredKey): Promise<void> {
    this.assertOpen()
    if (!isStorableId(record.id))
      throw new Error(`keyward: key id ${JSON.stringify(record.id)} is not storable`)
    const envelope: Envelope = { r: record, p: record.id }
    // Only if absent: a create that turns out to be a duplicate must not reset the existing pool.
    if (record.credits !== null) await this.writePool(record.id, record.credits, true)
    const created = await this.guard.run('create', () =>
      this.scripts.keywardCreate(
        this.layout.record(record.id),
        this.layout.owner(record.ownerId),
        this.layout.sequence(),
        this.layout.version(),
        JSON.stringify(envelope),
        record.id,
        this.layout.channel(),
        this.message('c', record.id),
      ),
    )
    if (created !== 1) throw new Error(`keyward: duplicate key id ${record.id}`)
    this.cache.forgetMissing(record.id)
  }

  async get(id: string): Promise<StoredKey | null> {
    this.assertOpen()
    const found = await this.lookup(id)
    return found === null ? null : found.record
  }

  async update(id: string, changes: KeyChanges): Promise<StoredKey | null> {
    this.assertOpen()
    if (!isStorableId(id)) return null
    // A replaced key spends from its successor's pool: its own credit settings no longer matter.
    const ownsPool = (envelope: Envelope) => changes.credits !== undefined && envelope.r.rotatedTo === null
    const result = await this.replace(
      id,
      'update',
      (envelope) => ({ ...envelope, r: { ...envelope.r, ...changes } }),
      // New credits reach the pool before the record says so: a spend in between finds a pool.
      async (before) => {
        if (ownsPool(before) && changes.credits != null)
          await this.writePool(before.p, changes.credits, false)
      },
    )
    if (result === null) return null
    const { before, after } = result
    if (ownsPool(before) && changes.credits === null) {
      await this.guard.run('update credits', () => this.client.del(this.layout.credits(after.p)))
    }
    this.changed(id)
    return (await this.withLiveCredits(after)).record
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
      envelopes.map(async (envelope) => (await this.withLiveCredits(envelope)).record),
    )
    const lastScore = scores[pageIds.length - 1]
    return { records, cursor: more && lastScore !== undefined ? encodeCursor(lastScore) : null }
  }

  async rotate(id: string, successor: StoredKey, changes: KeyChanges): Promise<StoredKey | null> {
    this.assertOpen()
    if (!isStorableId(id)) return null
    if (!isStorableId(successor.id))
      throw new Error(`keyward: key id ${JSON.stringify(successor.id)} is not storable`)
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.guard.run('rotate', () => this.client.get(this.layout.record(id)))
      if (raw === null) return null
      const before = parseEnvelope(raw)
      const after: Envelope = { ...before, r: { ...before.r, ...changes } }
      // The successor inherits the live pool, so credits spent on the old key during its grace
      // period and on the new one come out of one counter, exactly once.
      const successorEnvelope: Envelope = { r: successor, p: before.p }
      if (successor.credits !== null && before.r.credits === null)
        await this.writePool(before.p, successor.credits, true)
      const reply = await this.guard.run('rotate', () =>
        this.scripts.keywardRotate(
          this.layout.record(id),
          this.layout.record(successor.id),
          this.layout.owner(successor.ownerId),
          this.layout.sequence(),
          this.layout.version(),
          raw,
          JSON.stringify(after),
          JSON.stringify(successorEnvelope),
          successor.id,
          this.layout.channel(),
          this.message('u', id),
        ),
      )
      if (reply === -1) return null
      if (reply === -2) throw new Error(`keyward: duplicate key id ${successor.id}`)
      if (reply === 1) {
        this.cache.forgetMissing(successor.id)
        this.changed(id)
        return (await this.withLiveCredits(after)).record
      }
    }
    throw new StoreError(`keyward: key ${id} kept changing during rotate; try again`)
  }

  // ——— credits ———

  async spendCredits(id: string, cost: number, now: number): Promise<CreditSpend | null> {
    this.assertOpen()
    const found = await this.lookup(id)
    if (found === null || found.record.credits === null) return null
    const reply = await this.guard.run('spend credits', () =>
      this.scripts.keywardSpend(this.layout.credits(found.pool), String(cost), String(now)),
    )
    // The record has credits but its pool is gone (evicted, flushed): never treat that as unlimited.
    if (reply === null) return { spent: false, remaining: 0, nextRefillAt: null }
    const [spent, remaining, nextRefillAt, refilledAt] = reply
    const spend: CreditSpend = {
      spent: spent === 1,
      remaining: Number(remaining),
      nextRefillAt: nextRefillAt === '-1' ? null : Number(nextRefillAt),
    }
    // Keep this process's view of the record's credits current for `keys.get`.
    this.cache.refresh(id, (cached) => withCredits(cached, spend.remaining, Number(refilledAt)))
    return spend
  }

  // ——— rate limits ———

  createLimiter(policy: ResolvedPolicy): PolicyLimiter {
    return new RedisPolicyLimiter(
      this.client,
      this.layout.rateLimit(policy),
      policy,
      this.failMode === 'open',
      this.guard.timeoutMs,
    )
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
    this.cache.flush()
    clearTimeout(this.resubscribeTimer)
    clearInterval(this.gapTimer)
    this.subscriber.removeAllListeners('message')
    // The subscriber is ours: disconnect, not quit, so closing never waits on an unreachable server.
    this.subscriber.disconnect()
  }

  // ——— internals ———

  private assertOpen(): void {
    if (this.closed) throw new StoreError('keyward: this RedisStore is closed')
  }

  /** The record and pool of `id`: from the cache while invalidations are flowing, else from Redis. */
  private async lookup(id: string): Promise<Cached | null> {
    if (!isStorableId(id)) return null
    const hit = this.cache.lookup(id)
    // Without a live subscription the cache may miss invalidations: trust it only as a fallback.
    if (hit !== undefined && !hit.stale && this.subscribed) {
      const cached = hit.value
      if (cached?.record.credits == null || Date.now() - cached.creditsReadAt <= this.creditsMaxAgeMs) {
        return cached
      }
      try {
        return await this.refreshCredits(id, cached)
      } catch (error) {
        if (this.failMode === 'open') return cached
        throw error
      }
    }
    try {
      return await this.fetch(id)
    } catch (error) {
      if (this.failMode === 'open' && hit?.value != null) return hit.value
      throw error
    }
  }

  /** One read per id at a time: concurrent misses of the same id share it. */
  private fetch(id: string): Promise<Cached | null> {
    let inFlight = this.pending.get(id)
    if (inFlight === undefined) {
      const startedAt = this.cache.begin()
      inFlight = this.read(id)
        .then((found) => {
          if (this.subscribed) this.cache.store(id, found, startedAt)
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
      inFlight = this.withLiveCredits({ r: cached.record, p: cached.pool })
        .then((fresh) => {
          this.cache.refresh(id, (current) => (current.record === cached.record ? fresh : current))
          return fresh
        })
        .finally(() => this.pendingCredits.delete(id))
      this.pendingCredits.set(id, inFlight)
    }
    return inFlight
  }

  private async read(id: string): Promise<Cached | null> {
    const raw = await this.guard.run('get', () => this.client.get(this.layout.record(id)))
    return raw === null ? null : this.withLiveCredits(parseEnvelope(raw))
  }

  /** The record with `credits` as its pool holds them now (the record's copy is the initial one). */
  private async withLiveCredits(envelope: Envelope): Promise<Cached> {
    const record = envelope.r
    const cached: Cached = { record, pool: envelope.p, creditsReadAt: Date.now() }
    if (record.credits === null) return cached
    const [remaining, refilledAt] = await this.guard.run('get credits', () =>
      this.client.hmget(this.layout.credits(envelope.p), 'r', 't'),
    )
    if (remaining == null || refilledAt == null) return cached
    return withCredits(cached, Number(remaining), Number(refilledAt))
  }

  /** Sets a pool's credits; with `onlyIfAbsent`, leaves an existing pool alone. */
  private async writePool(poolId: string, credits: StoredCredits, onlyIfAbsent: boolean): Promise<void> {
    const refill = credits.refill
    await this.guard.run('write credits', () =>
      this.scripts.keywardWritePool(
        this.layout.credits(poolId),
        onlyIfAbsent ? '1' : '0',
        String(credits.remaining),
        String(credits.refilledAt),
        String(refill === null ? 0 : refill.amount),
        String(refill === null ? 0 : refill.interval),
      ),
    )
  }

  /** Read, transform, compare-and-set: retried when another writer got in between. */
  private async replace(
    id: string,
    operation: string,
    transform: (envelope: Envelope) => Envelope,
    beforeWrite: (before: Envelope) => Promise<void>,
  ): Promise<{ before: Envelope; after: Envelope } | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.guard.run(operation, () => this.client.get(this.layout.record(id)))
      if (raw === null) return null
      const before = parseEnvelope(raw)
      const after = transform(before)
      await beforeWrite(before)
      const reply = await this.guard.run(operation, () =>
        this.scripts.keywardReplace(
          this.layout.record(id),
          this.layout.version(),
          raw,
          JSON.stringify(after),
          this.layout.channel(),
          this.message('u', id),
        ),
      )
      if (reply === -1) return null
      if (reply === 1) return { before, after }
    }
    throw new StoreError(`keyward: key ${id} kept changing during ${operation}; try again`)
  }

  /**
   * `<origin> <c|u> <id>`, to which the script appends ` <version>`: `c` created (drop negative
   * entries), `u` changed (drop and notify).
   */
  private message(kind: 'c' | 'u', id: string): string {
    return `${this.origin} ${kind} ${id}`
  }

  /** A change made here: drop it from the cache and tell the listeners without waiting for pub/sub. */
  private changed(id: string): void {
    this.cache.invalidate(id)
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

  private startSubscriber(): RedisClient {
    const subscriber = this.client.duplicate()
    const channel = this.layout.channel()
    let attempt = 0
    const lost = () => {
      this.subscribed = false
      this.seenVersion = null
    }
    // (Re)subscribes, then starts from an empty cache: invalidations sent while the subscription
    // was away are lost. Only the latest attempt may declare the cache trustworthy again.
    const subscribe = () => {
      const current = ++attempt
      lost()
      subscriber
        .subscribe(channel)
        .then(async () => {
          if (this.closed || current !== attempt || subscriber.status !== 'ready') return
          this.cache.flush()
          this.subscribed = true
          this.versionAtLastCheck = null
          // Notices from here on are heard; the version now is the baseline to detect gaps from.
          const version = Number(
            await this.guard.run('subscribe', () => this.client.get(this.layout.version())),
          )
          if (current === attempt && this.subscribed)
            this.seenVersion = Math.max(this.seenVersion ?? 0, version)
        })
        .catch(() => {
          if (this.closed || current !== attempt) return
          this.resubscribeTimer = setTimeout(subscribe, 200)
          this.resubscribeTimer.unref()
        })
    }
    // Without an 'error' listener ioredis would emit unhandled errors during an outage.
    subscriber.on('error', () => {})
    subscriber.on('close', lost)
    subscriber.on('end', lost)
    subscriber.on('reconnecting', lost)
    subscriber.on('ready', subscribe)
    // On a cluster, the connection that carries the subscription moves to another node when its
    // node leaves, without a new 'ready': treat every topology change as a possible gap.
    subscriber.on('-node', () => {
      lost()
      // After ioredis has picked the subscription's new node (it reacts to the same event).
      setImmediate(() => {
        if (!this.closed && subscriber.status === 'ready') subscribe()
      })
    })
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return
      const [origin, kind, id, versionText] = message.split(' ')
      if (id === undefined || !isStorableId(id)) return
      this.heard(Number(versionText))
      if (origin === this.origin) return
      if (kind === 'c') {
        this.cache.forgetMissing(id)
      } else {
        this.cache.invalidate(id)
        this.notify(id)
      }
    })
    if (subscriber.status === 'wait') subscriber.connect().catch(() => {})
    this.gapTimer = setInterval(() => this.checkForGaps(), this.gapCheckMs)
    this.gapTimer.unref()
    return subscriber
  }

  /** Notes a notice's version; one that skips a number means notices were lost: flush. */
  private heard(version: number): void {
    if (!Number.isSafeInteger(version) || this.seenVersion === null) return
    if (version > this.seenVersion + 1) this.cache.flush()
    if (version > this.seenVersion) this.seenVersion = version
  }

  /**
   * Pub/sub is at-most-once: a notice can vanish (a cluster node leaves, a connection dies
   * silently) without any later notice to reveal the gap. So the version counter is read every
   * `gapCheckMs`; if the notices heard have not reached what it said one period ago, some were
   * lost, and the cache starts over.
   */
  private async checkForGaps(): Promise<void> {
    if (!this.subscribed || this.seenVersion === null) return
    let version: number
    try {
      version = Number(await this.guard.run('version check', () => this.client.get(this.layout.version())))
    } catch {
      return
    }
    if (this.seenVersion === null) return
    const expected = this.versionAtLastCheck
    if (version < this.seenVersion) {
      // The counter went backwards: Redis lost its data (flushed, restored from an old snapshot).
      this.cache.flush()
      this.seenVersion = version
    } else if (expected !== null && this.seenVersion < expected) {
      this.cache.flush()
      this.seenVersion = expected
    }
    this.versionAtLastCheck = version
  }

  /** The key prefix this store writes under (for tooling and tests). */
  get prefix(): string {
    return this.keyPrefix
  }
}

/** `cached` with its credits as just read from the pool (the same record object when unchanged). */
function withCredits(cached: Cached, remaining: number, refilledAt: number): Cached {
  const credits = cached.record.credits
  const creditsReadAt = Date.now()
  if (credits === null || (credits.remaining === remaining && credits.refilledAt === refilledAt)) {
    return { ...cached, creditsReadAt }
  }
  return {
    pool: cached.pool,
    creditsReadAt,
    record: { ...cached.record, credits: { ...credits, remaining, refilledAt } },
  }
}

function parseEnvelope(raw: string): Envelope {
  const value = JSON.parse(raw) as Envelope
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.p !== 'string' ||
    typeof value.r !== 'object'
  ) {
    throw new StoreError('keyward: unreadable key record in Redis')
  }
  return value
}

function encodeCursor(score: string): string {
  return Buffer.from(`s:${score}`, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string | null {
  if (typeof cursor !== 'string' || cursor.length > 64) return null
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const match = /^s:(\d{1,16})$/.exec(text)
  return match?.[1] ?? null
}
