// A complete Koa API guarded by keyward: `pnpm start`, then call it with the printed key.

import { createKeyward } from '@keyward/core'
import { apiKeyAuth, type KeywardState, requireScopes } from '@keyward/koa'
import Router from '@koa/router'
import Koa from 'koa'

const keyward = createKeyward({
  prefix: 'acme',
  secret: process.env.KEYWARD_SECRET, // optional in memory; required with Redis
  rateLimit: { points: 100, duration: 60 },
})

const router = new Router<KeywardState>()
router.get('/health', (ctx) => {
  ctx.body = { ok: true }
})
router.use('/v1', apiKeyAuth(keyward))
router.get('/v1/orders', requireScopes('orders:read'), (ctx) => {
  ctx.body = { owner: ctx.state.apiKey?.ownerId, orders: [] }
})
router.post('/v1/orders', requireScopes('orders:write'), (ctx) => {
  ctx.status = 201
  ctx.body = { owner: ctx.state.apiKey?.ownerId, created: true }
})
router.get(
  '/v1/report',
  apiKeyAuth(keyward, { scopes: { anyOf: ['reports:read', 'admin'] }, cost: 5 }),
  (ctx) => {
    ctx.body = { report: 'ok' }
  },
)

const app = new Koa<KeywardState>().use(router.routes()).use(router.allowedMethods())
const { key } = await keyward.keys.create({ ownerId: 'org_42', scopes: ['orders:read'] })
const port = Number(process.env.PORT ?? 3003)
const server = app.listen(port, () => {
  console.log(`Koa example on http://localhost:${port}`)
  console.log(`curl -i -H 'Authorization: Bearer ${key}' http://localhost:${port}/v1/orders`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void keyward.close())
  })
}
