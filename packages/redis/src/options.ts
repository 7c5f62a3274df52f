/**
 * The options of `RedisStore`, validated once. Every mistake is a `ConfigError` naming the option.
 */
import { ConfigError } from '@keyward/core'
import { checkObject, checkOneOf, optionalInteger } from '@keyward/core/store'
import type { RedisClient } from './command-guard.ts'
import type { UsageStreamOptions } from './usage-store.ts'

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
  /**
   * The oldest a cached record may be — counted from when Redis last confirmed it (this process
   * read it, or its change feed was live and had heard every notice) — to be used: past it the
   * record is read again, and with `failMode: 'open'` a record Redis cannot confirm answers
   * `UNAVAILABLE`. So a key revoked while this process is cut off (even behind a connection that
   * looks alive) stops working here within this bound. The default rides out a Sentinel or Cluster
   * failover with default settings. @default 60000
   */
  maxStaleMs?: number
  /** Longest wait for one Redis command before it counts as failed, in ms. @default 500 */
  commandTimeoutMs?: number
  /** Records kept in the process-local cache (0 disables it). @default 10000 */
  cacheSize?: number
  /** Safety TTL of a cached record, in case an invalidation is lost, in ms. @default 60000 */
  cacheTtlMs?: number
  /** How long an unknown id is remembered as unknown, in ms (0 disables). @default 1000 */
  negativeCacheTtlMs?: number
  /**
   * Unknown ids remembered, in a cache of their own (0 disables): made-up ids never push a real
   * record out of the `cacheSize` records. @default 10000
   */
  negativeCacheSize?: number
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
  /**
   * Also append every verification to the stream `<keyPrefix>usage` (`XADD … MAXLEN ~ maxLen`),
   * for downstream consumers reading it with consumer groups. Entry fields: `keyId`, `ownerId`
   * (empty when unknown), `code`, `cost`, `timestamp` — never the key. `true` uses the defaults.
   * @default false; `maxLen` 100000
   */
  usageStream?: boolean | { maxLen?: number }
}

export interface ResolvedRedisStoreOptions {
  client: RedisClient
  keyPrefix: string
  failMode: FailMode
  maxStaleMs: number
  commandTimeoutMs: number
  cacheSize: number
  cacheTtlMs: number
  negativeCacheTtlMs: number
  negativeCacheSize: number
  creditsMaxAgeMs: number
  gapCheckMs: number
  usageStream: UsageStreamOptions | null
}

const KEY_PREFIX = /^[A-Za-z0-9:._-]{0,64}$/

export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  checkObject('options', options, undefined, 'an object with a `client`')
  const client = options.client
  if (client === null || typeof client !== 'object' || typeof client.duplicate !== 'function') {
    throw new ConfigError('client', 'must be an ioredis Redis or Redis.Cluster instance')
  }
  const keyPrefix = options.keyPrefix ?? 'kw:'
  if (typeof keyPrefix !== 'string' || !KEY_PREFIX.test(keyPrefix)) {
    throw new ConfigError('keyPrefix', 'must be at most 64 characters of A-Z a-z 0-9 : . _ - (no braces)')
  }
  return {
    client,
    keyPrefix,
    failMode: checkOneOf('failMode', options.failMode ?? 'closed', ['open', 'closed']),
    maxStaleMs: optionalInteger('maxStaleMs', options.maxStaleMs, 60_000),
    commandTimeoutMs: optionalInteger('commandTimeoutMs', options.commandTimeoutMs, 500, { min: 1 }),
    cacheSize: optionalInteger('cacheSize', options.cacheSize, 10_000),
    cacheTtlMs: optionalInteger('cacheTtlMs', options.cacheTtlMs, 60_000, { min: 1 }),
    negativeCacheTtlMs: optionalInteger('negativeCacheTtlMs', options.negativeCacheTtlMs, 1_000),
    negativeCacheSize: optionalInteger('negativeCacheSize', options.negativeCacheSize, 10_000),
    creditsMaxAgeMs: optionalInteger('creditsMaxAgeMs', options.creditsMaxAgeMs, 1_000),
    gapCheckMs: optionalInteger('gapCheckMs', options.gapCheckMs, 500, { min: 10 }),
    usageStream: resolveUsageStream(options.usageStream),
  }
}

function resolveUsageStream(value: RedisStoreOptions['usageStream']): UsageStreamOptions | null {
  if (value === undefined || value === false) return null
  if (value === true) return { maxLen: 100_000 }
  checkObject('usageStream', value, undefined, 'a boolean or { maxLen }')
  return { maxLen: optionalInteger('usageStream.maxLen', value.maxLen, 100_000, { min: 1 }) }
}
