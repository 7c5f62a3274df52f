// A complete Hono API guarded by keyward: `pnpm start`, then call it with the printed key.
import { serve } from '@hono/node-server'
import { createKeyward } from '@keyward/core'
import { apiKeyAuth, requireScopes, type Variables } from '@keyward/hono'
import { Hono } from 'hono'

const keyward = createKeyward({
  prefix: 'acme',
  secret: process.env.KEYWARD_SECRET, // optional in memory; required with Redis
  rateLimit: { points: 100, duration: 60 },
})

const app = new Hono<{ Variables: Variables }>()
app.get('/health', (c) => c.json({ ok: true }))

app.use('/v1/*', apiKeyAuth(keyward))
app.get('/v1/orders', requireScopes('orders:read'), (c) =>
  c.json({ owner: c.get('apiKey').ownerId, orders: [] }),
)
app.post('/v1/orders', requireScopes('orders:write'), (c) =>
  c.json({ owner: c.get('apiKey').ownerId, created: true }, 201),
)
app.get('/v1/report', apiKeyAuth(keyward, { scopes: { anyOf: ['reports:read', 'admin'] }, cost: 5 }), (c) =>
  c.json({ report: 'ok' }),
)

const { key } = await keyward.keys.create({ ownerId: 'org_42', scopes: ['orders:read'] })
const port = Number(process.env.PORT ?? 3002)
const server = serve({ fetch: app.fetch, port }, () => {
  console.log(`Hono example on http://localhost:${port}`)
  console.log(`curl -i -H 'Authorization: Bearer ${key}' http://localhost:${port}/v1/orders`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void keyward.close())
  })
}
