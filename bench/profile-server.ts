/**
 * A server for CPU profiles of the HTTP hot path: one variant of the HTTP bench on a fixed port,
 * run under `node --cpu-prof` while autocannon loads it (see bench/profile.ts). The Redis variants
 * need a redis-server on loopback at `REDIS_PORT`.
 *
 *   VARIANT=keyward|bare|diy|redis-strict|redis-local|diy-redis node --cpu-prof --import tsx bench/profile-server.ts
 */
import { createHash, randomBytes } from 'node:crypto'
import { serve } from '@hono/node-server'
import { createKeyward } from '@keyward/core'
import { apiKeyAuth, requireScopes } from '@keyward/hono'
import { RedisStore } from '@keyward/redis'
import { Hono, type MiddlewareHandler } from 'hono'
import { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'

const variant = process.env.VARIANT ?? 'keyward'
const port = Number(process.env.PORT ?? 3999)
const UNLIMITED = { points: 1_000_000_000, duration: 60 }
const secret = randomBytes(32).toString('base64url')
const redis = variant.includes('redis')
  ? new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) })
  : null
const keyward =
  redis === null
    ? createKeyward({ prefix: 'bench', secret, rateLimit: UNLIMITED })
    : createKeyward({
        prefix: 'bench',
        secret,
        store: new RedisStore({ client: redis, keyPrefix: 'profile:' }),
      })
// As in bench/http.bench.ts: strict = limit + credits (one round trip); local-first = limit only.
const { key } = await keyward.keys.create({
  ownerId: 'org_bench',
  scopes: ['bench:read'],
  ...(variant === 'redis-strict' ? { rateLimit: UNLIMITED, credits: { remaining: 1_000_000_000_000 } } : {}),
  ...(variant === 'redis-local' ? { rateLimit: { ...UNLIMITED, sync: { intervalMs: 100 } } } : {}),
})

const app = new Hono()
if (variant === 'keyward' || variant === 'redis-strict' || variant === 'redis-local') {
  app.use('/hello', apiKeyAuth(keyward))
  app.use('/hello', requireScopes('bench:read'))
}
if (variant === 'diy') {
  const digests = new Map([[createHash('sha256').update(key).digest('base64url'), { id: 'x' }]])
  const limiter = new RateLimiterMemory({ points: 1_000_000_000, duration: 60 })
  const diy: MiddlewareHandler = async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const record = digests.get(createHash('sha256').update(header.slice(7)).digest('base64url'))
    if (record === undefined) return c.text('no', 401)
    await limiter.consume(record.id)
    await next()
  }
  app.use('/hello', diy)
}
if (variant === 'diy-redis' && redis !== null) {
  const digest = createHash('sha256').update(key).digest('base64url')
  await redis.set(`diy:${digest}`, JSON.stringify({ id: 'diy' }))
  const limiter = new RateLimiterRedis({ ...UNLIMITED, storeClient: redis, keyPrefix: 'diyrl' })
  const diy: MiddlewareHandler = async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const json = await redis.get(`diy:${createHash('sha256').update(header.slice(7)).digest('base64url')}`)
    if (json === null) return c.text('no', 401)
    await limiter.consume((JSON.parse(json) as { id: string }).id)
    await next()
  }
  app.use('/hello', diy)
}
app.get('/hello', (c) => c.json({ hello: 'world' }))
const server = serve({ fetch: app.fetch, port }, () => process.stdout.write(`${JSON.stringify({ key })}\n`))
process.on('SIGINT', () => {
  server.close()
  process.exit(0)
})
