/**
 * The Redis backend: a `createKeyward` over a `RedisStore` on one connection this process opens
 * and closes, exactly as a service would configure it (docs/architecture.md, "Stores"). The
 * connection does not retry: a CLI run should fail in seconds with exit code 3, not wait for a
 * server to come back.
 */
import { randomBytes } from 'node:crypto'
import { createKeyward, type Keyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { Cluster, Redis } from 'ioredis'
import { CliError, ExitCode, usageError } from '../exit-codes.ts'
import type {
  Backend,
  CreatedKeyView,
  Json,
  KeyView,
  OwnerView,
  RotatedKeyView,
  UsageView,
} from './backend.ts'

export interface RedisBackendOptions {
  /** One URL, or with `cluster` the cluster's startup nodes, comma-separated. */
  url: string
  /** Connect to a Redis Cluster (`RedisStore` takes an ioredis `Cluster`). */
  cluster: boolean
  /** Prefix of the keys minted (`kw` → `kw_live_…`). */
  prefix: string
  /** Prefix of every Redis key (`RedisStore`'s `keyPrefix`). */
  keyPrefix: string
  /** `KEYWARD_SECRET`; only commands that mint a key need it. */
  secret: string | undefined
  /** Longest wait for the connection and for each command, in ms. */
  timeoutMs: number
}

/** `value` as JSON would carry it: what `--json` prints and what the admin API answers. */
function toJson<T>(value: T): Json<T> {
  return JSON.parse(JSON.stringify(value)) as Json<T>
}

/** The URL(s) without a password, for messages. */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const parsed = new URL(one.trim())
        if (parsed.password !== '') parsed.password = '***'
        return parsed.toString().replace(/\/$/, '')
      } catch {
        return '(a Redis URL)'
      }
    })
    .join(',')
}

/** A client that does not retry: a CLI run fails in seconds rather than waiting for a server. */
function connectClient(options: RedisBackendOptions): Redis | Cluster {
  const urls = options.url.split(',').map((url) => url.trim())
  if (!options.cluster) {
    if (urls.length > 1)
      throw usageError('--redis-url names several servers: add --redis-cluster for a Redis Cluster')
    return new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.timeoutMs,
      retryStrategy: () => null,
      maxRetriesPerRequest: 1,
    })
  }
  const parsed = urls.map((url) => new URL(url))
  const first = parsed[0] as URL
  return new Cluster(
    parsed.map((url) => ({ host: url.hostname, port: url.port === '' ? 6379 : Number(url.port) })),
    {
      lazyConnect: true,
      clusterRetryStrategy: () => null,
      redisOptions: {
        connectTimeout: options.timeoutMs,
        maxRetriesPerRequest: 1,
        ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
        ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  )
}

export async function openRedisBackend(options: RedisBackendOptions): Promise<Backend> {
  const location = redactUrl(options.url)
  for (const url of options.url.split(',')) {
    if (!/^rediss?:\/\/[^/]/.test(url.trim())) {
      throw usageError(`--redis-url must be redis://host:port or rediss://… (got ${location})`)
    }
  }
  // Core checks the prefix and the pepper before any connection is opened: a typo is a usage
  // error, not a Redis round trip. The in-memory instance is thrown away at once.
  const secret = options.secret ?? randomBytes(32).toString('base64url')
  await createKeyward({ prefix: options.prefix, secret, keyRetentionMs: false }).close()

  const client = connectClient(options)
  // ioredis reports why a connection failed on 'error' and rejects connect() with a generic
  // "Connection is closed"; keep the first reason for the message.
  let reason: Error | undefined
  client.on('error', (error: Error) => {
    reason ??= error
  })
  try {
    await client.connect()
  } catch (error) {
    client.disconnect()
    const cause = reason ?? (error as Error)
    throw new CliError(`cannot reach Redis at ${location}: ${cause.message}`, ExitCode.UNREACHABLE, { cause })
  }

  let keyward: Keyward
  try {
    keyward = createKeyward({
      prefix: options.prefix,
      // Only create and rotate hash a key. The other commands never use the pepper, so they run
      // without KEYWARD_SECRET (an operator revoking a key need not hold it); the random stand-in
      // is never written anywhere, and `mint()` refuses to hash with it.
      secret,
      store: new RedisStore({ client, keyPrefix: options.keyPrefix, commandTimeoutMs: options.timeoutMs }),
    })
  } catch (error) {
    client.disconnect()
    throw error
  }

  const mint = () => {
    if (options.secret === undefined) {
      throw usageError(
        'KEYWARD_SECRET is not set: minting a key needs the pepper your services verify with (the same value everywhere)',
      )
    }
  }

  let closed = false
  return {
    location,

    async createKey(input, audit): Promise<CreatedKeyView> {
      mint()
      return toJson(await keyward.keys.create(input, audit))
    },

    async listKeys(query) {
      return toJson(await keyward.keys.list(query))
    },

    async getKey(id): Promise<KeyView | null> {
      const record = await keyward.keys.get(id)
      return record === null ? null : toJson(record)
    },

    async revokeKey(id, audit): Promise<KeyView> {
      return toJson(await keyward.keys.revoke(id, audit))
    },

    async rotateKey(id, options): Promise<RotatedKeyView> {
      mint()
      return toJson(await keyward.keys.rotate(id, options))
    },

    async deleteKey(id, audit): Promise<KeyView> {
      return toJson(await keyward.keys.delete(id, audit))
    },

    async getOwner(id): Promise<OwnerView | null> {
      const owner = await keyward.owners.get(id)
      return owner === null ? null : toJson(owner)
    },

    async setOwner(id, input, audit): Promise<OwnerView> {
      return toJson(await keyward.owners.set(id, input, audit))
    },

    async deleteOwner(id, audit): Promise<OwnerView> {
      return toJson(await keyward.owners.delete(id, audit))
    },

    async usage(target, range): Promise<UsageView> {
      return toJson(await keyward.usage.get(target, range))
    },

    async close() {
      if (closed) return
      closed = true
      await keyward.close().catch(() => {})
      await client.quit().catch(() => client.disconnect())
    },
  }
}
