/**
 * A server for CPU profiles of the HTTP hot path: one variant of the HTTP bench on a fixed port,
 * run under `node --cpu-prof` while autocannon loads it (see bench/profile.ts).
 *
 *   VARIANT=keyward|bare|diy node --cpu-prof --import tsx bench/profile-server.ts
 */
import { createHash } from 'node:crypto'
import { serve } from '@hono/node-server'
import { createKeyward } from '@keyward/core'
import { apiKeyAuth, requireScopes } from '@keyward/hono'
import { Hono, type MiddlewareHandler } from 'hono'
import { RateLimiterMemory } from 'rate-limiter-flexible'

const variant = process.env.VARIANT ?? 'keyward'
const port = Number(process.env.PORT ?? 3999)
const keyward = createKeyward({ prefix: 'bench', rateLimit: { points: 1_000_000_000, duration: 60 } })
const { key } = await keyward.keys.create({ ownerId: 'org_bench', scopes: ['bench:read'] })

const app = new Hono()
if (variant === 'keyward') {
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
app.get('/hello', (c) => c.json({ hello: 'world' }))
const server = serve({ fetch: app.fetch, port }, () => process.stdout.write(`${JSON.stringify({ key })}\n`))
process.on('SIGINT', () => {
  server.close()
  process.exit(0)
})
