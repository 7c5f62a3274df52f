/**
 * Picks the backend a command talks to: Redis (`--redis-url` / `KEYWARD_REDIS_URL`) or a running
 * admin API (`--api-url` / `KEYWARD_API_URL`). A flag beats an environment variable, so a shell
 * that exports one can still point a single command at the other; two of the same kind is a
 * usage error rather than a guess.
 */
import { usageError } from '../exit-codes.ts'
import type { Backend } from './backend.ts'

/** Where an option's value came from, as commander reports it. */
export type ValueSource = 'cli' | 'env' | 'default' | 'config' | 'implied' | undefined

export interface BackendChoice {
  redisUrl: { value: string | undefined; source: ValueSource }
  apiUrl: { value: string | undefined; source: ValueSource }
  /** `--redis-cluster`: the URLs are a Redis Cluster's startup nodes. */
  redisCluster: boolean
  prefix: string
  keyPrefix: string
  timeoutMs: number
  env: Readonly<Record<string, string | undefined>>
  warn(message: string): void
}

export async function openBackend(choice: BackendChoice): Promise<Backend> {
  const { redisUrl, apiUrl } = choice
  let use: 'redis' | 'api'
  if (redisUrl.value !== undefined && apiUrl.value !== undefined) {
    if (redisUrl.source === 'cli' && apiUrl.source !== 'cli') use = 'redis'
    else if (apiUrl.source === 'cli' && redisUrl.source !== 'cli') use = 'api'
    else {
      throw usageError(
        `both ${redisUrl.source === 'cli' ? '--redis-url' : 'KEYWARD_REDIS_URL'} and ${apiUrl.source === 'cli' ? '--api-url' : 'KEYWARD_API_URL'} are set: give one backend`,
      )
    }
  } else if (redisUrl.value !== undefined) use = 'redis'
  else if (apiUrl.value !== undefined) use = 'api'
  else {
    throw usageError(
      'no backend: pass --redis-url redis://host:6379 (or set KEYWARD_REDIS_URL), or --api-url for a running admin API',
    )
  }
  // Loaded on demand: ioredis and the store cost `scan` and `secret` startup time they never use.
  if (use === 'api') {
    const { openAdminApiBackend } = await import('./admin-api-backend.ts')
    return openAdminApiBackend({
      url: apiUrl.value as string,
      adminKey: choice.env.KEYWARD_ADMIN_KEY,
      timeoutMs: choice.timeoutMs,
      warn: choice.warn,
    })
  }
  const secret = choice.env.KEYWARD_SECRET
  const { openRedisBackend } = await import('./redis-backend.ts')
  return openRedisBackend({
    url: redisUrl.value as string,
    cluster: choice.redisCluster,
    prefix: choice.prefix,
    keyPrefix: choice.keyPrefix,
    secret: secret === '' ? undefined : secret,
    timeoutMs: choice.timeoutMs,
  })
}
