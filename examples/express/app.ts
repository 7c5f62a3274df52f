// A complete Express API guarded by keyward: `pnpm start`, then call it with the printed key.
import { createKeyward } from '@keyward/core'
import { apiKeyAuth, requireScopes } from '@keyward/express'
import express from 'express'

const keyward = createKeyward({
  prefix: 'acme',
  secret: process.env.KEYWARD_SECRET, // optional in memory; required with Redis
  rateLimit: { points: 100, duration: 60 },
})

const app = express()
app.get('/health', (_req, res) => {
  res.json({ ok: true })
})

app.use('/v1', apiKeyAuth(keyward))
app.get('/v1/orders', requireScopes('orders:read'), (req, res) => {
  res.json({ owner: req.apiKey?.ownerId, orders: [] })
})
app.post('/v1/orders', requireScopes('orders:write'), (req, res) => {
  res.status(201).json({ owner: req.apiKey?.ownerId, created: true })
})
app.get(
  '/v1/report',
  apiKeyAuth(keyward, { scopes: { anyOf: ['reports:read', 'admin'] }, cost: 5 }),
  (_req, res) => {
    res.json({ report: 'ok' })
  },
)

const { key } = await keyward.keys.create({ ownerId: 'org_42', scopes: ['orders:read'] })
const port = Number(process.env.PORT ?? 3001)
const server = app.listen(port, () => {
  console.log(`Express example on http://localhost:${port}`)
  console.log(`curl -i -H 'Authorization: Bearer ${key}' http://localhost:${port}/v1/orders`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void keyward.close())
  })
}
