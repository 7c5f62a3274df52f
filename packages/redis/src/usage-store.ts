/**
 * Usage on Redis (docs/architecture.md, Usage): the `KeyStore` usage methods of `RedisStore`.
 * A batch becomes one script call per hash-tag scope (a shard of key series, an owner, the
 * installation: `usage-layout.ts`) that adds its increments with HINCRBY / ZINCRBY, sets each bucket's TTL to
 * its end plus the retention, and records `(origin, sequence)` in the scope's applied marker, so a
 * retried batch skips the scopes it already reached. Calls are pipelined, one pipeline per
 * cluster node. `lastUsedAt` lives in a hash of its own, written with a keep-the-latest script —
 * never through the record, so it invalidates no cache. With `usageStream`, every verification
 * is also appended to a stream (`XADD … MAXLEN ~`) for downstream consumers.
 */
import { StoreError } from '@keyward/core'
import {
  type StoredUsage,
  USAGE_METRICS,
  USAGE_OUTCOMES,
  type UsageBatch,
  type UsageCounts,
  type UsageKeyAmounts,
  type UsageOutcome,
  type UsageRangeQuery,
  type UsageRankingQuery,
} from '@keyward/core/store'
import { groupByNode } from './cluster-slots.ts'
import type { CommandGuard, RedisClient } from './command-guard.ts'
import { isStorableId } from './key-layout.ts'
import type { UsageLayout } from './usage-layout.ts'
import {
  LAST_USED_SCRIPT,
  USAGE_APPLY_SCRIPT,
  USAGE_RANK_SCRIPT,
  USAGE_STREAM_SCRIPT,
} from './usage-scripts.ts'

/** How long a scope remembers which batches it applied: longer than any retry of a batch waits. */
const APPLIED_TTL_MS = 7 * 86_400_000
const OUTCOMES = new Set<string>(USAGE_OUTCOMES)

type Argument = string | number

interface UsageCommands {
  keywardUsageApply(numberOfKeys: number, ...args: Argument[]): unknown
  keywardUsageStream(...args: Argument[]): unknown
  keywardLastUsed(...args: Argument[]): unknown
  keywardUsageRank(numberOfKeys: number, ...args: Argument[]): Promise<string[]>
}

/** One command of a batch write, and the key that decides its node. */
interface Write {
  key: string
  send(pipeline: UsageCommands): void
}

export interface UsageStreamOptions {
  maxLen: number
}

export class RedisUsage {
  constructor(
    private readonly client: RedisClient,
    private readonly guard: CommandGuard,
    private readonly layout: UsageLayout,
    private readonly stream: UsageStreamOptions | null,
  ) {
    client.defineCommand('keywardUsageApply', { lua: USAGE_APPLY_SCRIPT })
    client.defineCommand('keywardUsageStream', { lua: USAGE_STREAM_SCRIPT, numberOfKeys: 2 })
    client.defineCommand('keywardLastUsed', { lua: LAST_USED_SCRIPT, numberOfKeys: 1 })
    client.defineCommand('keywardUsageRank', { lua: USAGE_RANK_SCRIPT })
  }

  async record(batch: UsageBatch): Promise<void> {
    const writes = [...this.counterWrites(batch)]
    if (batch.lastUsed.length > 0) {
      const key = this.layout.lastUsed()
      const pairs = batch.lastUsed.flatMap(({ keyId, at }) => [keyId, at])
      writes.push({ key, send: (pipeline) => pipeline.keywardLastUsed(key, ...pairs) })
    }
    if (this.stream !== null && batch.verifications.length > 0)
      writes.push(this.streamWrite(batch, this.stream))

    const outcomes = await Promise.allSettled(
      groupByNode(this.client, writes, (write) => write.key).map((group) =>
        this.guard.run('record usage', async () => {
          const pipeline = this.client.pipeline()
          for (const write of group) write.send(pipeline as unknown as UsageCommands)
          for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error
        }),
      ),
    )
    // Every pipeline has settled: a retry of this batch cannot overtake one still on its way.
    const failed = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failed !== undefined) {
      const cause = (failed as PromiseRejectedResult).reason
      throw cause instanceof StoreError
        ? cause
        : new StoreError('keyward: Redis record usage failed', { cause })
    }
  }

  async read(query: UsageRangeQuery): Promise<(StoredUsage | null)[]> {
    if (query.series.kind === 'key' && !isStorableId(query.series.id)) return query.starts.map(() => null)
    const replies = await this.guard.run('read usage', async () => {
      const pipeline = this.client.pipeline()
      for (const start of query.starts)
        pipeline.hgetall(this.layout.bucket(query.series, query.granularity, start))
      return (await pipeline.exec()) ?? []
    })
    return replies.map(([error, fields]) => {
      if (error) throw new StoreError('keyward: Redis read usage failed', { cause: error })
      return parseBucket(fields as Record<string, string>)
    })
  }

  async rank(query: UsageRankingQuery): Promise<UsageKeyAmounts[]> {
    const scope = this.layout.rankingScope(query.ownerId)
    const keys = USAGE_METRICS.map((metric) => this.layout.scratch(scope, metric))
    for (const metric of USAGE_METRICS) {
      for (const start of query.starts)
        keys.push(this.layout.ranking(scope, metric, query.granularity, start))
    }
    const reply = await this.guard.run('rank usage', () =>
      (this.client as unknown as UsageCommands).keywardUsageRank(
        keys.length,
        ...keys,
        query.starts.length,
        USAGE_METRICS.indexOf(query.by) + 1,
        query.limit,
      ),
    )
    const ranked: UsageKeyAmounts[] = []
    for (let index = 0; index + 3 < reply.length; index += 4) {
      // Scores come back as the script summed them: the ranked metric negated.
      ranked.push({
        keyId: reply[index] as string,
        requests: Math.abs(Number(reply[index + 1])),
        rejections: Math.abs(Number(reply[index + 2])),
        credits: Math.abs(Number(reply[index + 3])),
      })
    }
    return ranked
  }

  /** A deleted key: its `lastUsedAt` goes with it (its past usage stays until it expires). */
  async forget(id: string): Promise<void> {
    await this.guard.run('forget last used', () => this.client.hdel(this.layout.lastUsed(), id))
  }

  async lastUsed(ids: readonly string[]): Promise<(number | null)[]> {
    if (ids.length === 0) return []
    const values = await this.guard.run('read last used', () =>
      this.client.hmget(this.layout.lastUsed(), ...ids),
    )
    return values.map((value) => (value === null ? null : Number(value)))
  }

  /** One script call per scope: its series buckets and, for owners and the installation, its rankings. */
  private *counterWrites(batch: UsageBatch): Generator<Write> {
    const scopes = new Map<string, { keys: string[]; args: Argument[] }>()
    const scopeOf = (scope: string) => {
      let entry = scopes.get(scope)
      if (entry === undefined) {
        entry = { keys: [this.layout.applied(scope)], args: [batch.origin, batch.sequence, APPLIED_TTL_MS] }
        scopes.set(scope, entry)
      }
      return entry
    }
    for (const { series, buckets } of batch.series) {
      if (series.kind === 'key' && !isStorableId(series.id)) continue
      const scope = this.layout.scope(series)
      const entry = scopeOf(scope)
      for (const bucket of buckets) {
        const fields: Argument[] = []
        for (const [outcome, count] of Object.entries(bucket.counts))
          if (count > 0) fields.push(outcome, count)
        if (bucket.credits > 0) fields.push('credits', bucket.credits)
        if (fields.length === 0) continue
        entry.keys.push(this.layout.bucket(series, bucket.granularity, bucket.start))
        entry.args.push('h', bucket.expiresAt - batch.now, fields.length / 2, ...fields)
      }
    }
    for (const { ownerId, buckets } of batch.rankings) {
      const scope = this.layout.rankingScope(ownerId)
      const entry = scopeOf(scope)
      for (const bucket of buckets) {
        for (const metric of USAGE_METRICS) {
          const members: Argument[] = []
          for (const amounts of bucket.keys)
            if (amounts[metric] > 0) members.push(amounts.keyId, amounts[metric])
          if (members.length === 0) continue
          entry.keys.push(this.layout.ranking(scope, metric, bucket.granularity, bucket.start))
          entry.args.push('z', bucket.expiresAt - batch.now, members.length / 2, ...members)
        }
      }
    }
    for (const { keys, args } of scopes.values()) {
      if (keys.length === 1) continue
      yield { key: keys[0]!, send: (pipeline) => pipeline.keywardUsageApply(keys.length, ...keys, ...args) }
    }
  }

  private streamWrite(batch: UsageBatch, stream: UsageStreamOptions): Write {
    const key = this.layout.stream()
    const applied = this.layout.streamApplied()
    const args: Argument[] = [batch.origin, batch.sequence, APPLIED_TTL_MS, stream.maxLen]
    for (const { keyId, ownerId, code, cost, timestamp } of batch.verifications) {
      args.push(keyId ?? '', ownerId ?? '', code, cost, timestamp)
    }
    return { key, send: (pipeline) => pipeline.keywardUsageStream(key, applied, ...args) }
  }
}

/** A bucket hash as `StoredUsage`; `null` when it does not exist (empty or expired). */
function parseBucket(fields: Record<string, string> | null): StoredUsage | null {
  if (fields === null || Object.keys(fields).length === 0) return null
  const counts: UsageCounts = {}
  let credits = 0
  for (const [field, value] of Object.entries(fields)) {
    if (field === 'credits') credits = Number(value)
    else if (OUTCOMES.has(field)) counts[field as UsageOutcome] = Number(value)
  }
  return { counts, credits }
}
