/**
 * The demo behind `pnpm start`: a Hono API guarded by keyward. At start it mints a read-only key
 * (rate limited to 5 requests per 10 s, so a burst shows 429) and an admin key, and prints
 * ready-to-paste curl commands for a success with RateLimit headers, a 403, a 429, `/v1/me`, a 401
 * and the read key's usage from all of those (`/v1/keys/:id/usage`, admin only). It also mounts
 * `@keyward/admin` under `/admin` — the admin API and, at `/admin/`, the dashboard — and mints a
 * keyward admin key (`keyward:*`) to sign in with.
 */
import { serve } from '@hono/node-server'
import { createAdmin } from '@keyward/admin'
import { createKeyward, type Keyward } from '@keyward/core'
import { apiKeyAuth, requireScopes, type Variables } from '@keyward/hono'
import { Hono } from 'hono'
import { createDemoStore } from './store.ts'

function createApp(keyward: Keyward): Hono<{ Variables: Variables }> {
  const app = new Hono<{ Variables: Variables }>()
  // The admin API and its dashboard, for keyward admin keys (scopes keyward:*).
  app.mount('/admin', createAdmin({ keyward }).fetch)
  app.get('/', (c) => c.text('keyward demo: see the terminal for keys and curl commands\n'))
  app.get('/health', (c) => c.json({ ok: true }))

  app.use('/v1/*', apiKeyAuth(keyward, { realm: 'demo' }))
  app.get('/v1/me', (c) => c.json(c.get('apiKey')))
  app.get('/v1/orders', requireScopes('orders:read', { realm: 'demo' }), (c) =>
    c.json({ owner: c.get('apiKey').ownerId, orders: [{ id: 'ord_1', total: 4200 }] }),
  )
  app.post('/v1/orders', requireScopes('orders:write', { realm: 'demo' }), (c) =>
    c.json({ owner: c.get('apiKey').ownerId, created: 'ord_2' }, 201),
  )
  app.get('/v1/keys', requireScopes('admin', { realm: 'demo' }), async (c) => {
    const page = await keyward.keys.list({ ownerId: c.get('apiKey').ownerId })
    return c.json(page)
  })
  // One of the caller's keys: its usage over the last 5 minutes, by minute. usage.get flushes this
  // process's pending counts first, so the requests just made are in it.
  app.get('/v1/keys/:id/usage', requireScopes('admin', { realm: 'demo' }), async (c) => {
    const record = await keyward.keys.get(c.req.param('id'))
    if (record === null || record.ownerId !== c.get('apiKey').ownerId)
      return c.json({ error: 'no such key' }, 404)
    const usage = await keyward.usage.get(
      { keyId: record.id },
      { from: new Date(Date.now() - 5 * 60_000), granularity: 'minute' },
    )
    return c.json({ keyId: record.id, lastUsedAt: record.lastUsedAt, ...usage })
  })
  return app
}

const demoStore = await createDemoStore()
const keywardOptions: Parameters<typeof createKeyward>[0] = {
  prefix: 'demo',
  store: demoStore.store,
  rateLimit: { points: 100, duration: 60 },
}
if (demoStore.secret !== undefined) keywardOptions.secret = demoStore.secret
const keyward = createKeyward(keywardOptions)

const read = await keyward.keys.create({
  ownerId: 'org_demo',
  name: 'demo-read',
  scopes: ['orders:read'],
  rateLimit: { name: 'demo', points: 5, duration: 10 },
})
const admin = await keyward.keys.create({
  ownerId: 'org_demo',
  name: 'demo-admin',
  scopes: ['orders:read', 'orders:write', 'admin'],
})
// A keyward admin key for the dashboard and the admin API; its own limit leaves room for the
// dashboard's refreshes.
const keywardAdmin = await keyward.keys.create({
  ownerId: 'operators',
  name: 'dashboard',
  scopes: ['keyward:*'],
  rateLimit: { points: 600, duration: 60 },
})

const server = serve({ fetch: createApp(keyward).fetch, port: Number(process.env.PORT ?? 3000) }, (info) => {
  const base = `http://localhost:${info.port}`
  console.log(`keyward demo listening on ${base} (store: ${demoStore.label})

Read-only key  (scopes: orders:read; 5 requests per 10 s):
  READ_KEY=${read.key}
Admin key      (scopes: orders:read orders:write admin; 100 requests per 60 s):
  ADMIN_KEY=${admin.key}

Dashboard: ${base}/admin/
  sign in with this keyward admin key (scopes: keyward:*), which also works on the admin API:
  KEYWARD_ADMIN_KEY=${keywardAdmin.key}

Try (each command is ready to paste):

# 1. 200, with RateLimit-Policy and RateLimit headers
curl -i -H 'Authorization: Bearer ${read.key}' ${base}/v1/orders

# 2. 403 insufficient_scope: the read key lacks orders:write
curl -i -X POST -H 'Authorization: Bearer ${read.key}' ${base}/v1/orders

# 3. 429 after a burst: the read key allows 5 requests per 10 s
for i in $(seq 1 10); do curl -s -o /dev/null -w '%{http_code}\\n' -H 'X-API-Key: ${read.key}' ${base}/v1/orders; done

# 4. 200: GET /v1/me returns the caller's own key (never its secret)
curl -s -H 'Authorization: Bearer ${admin.key}' ${base}/v1/me

# 5. 401: no key
curl -i ${base}/v1/orders

# 6. 200: the read key's usage over the last 5 minutes, by minute (counts per outcome: the 200s and 429s above)
curl -s -H 'Authorization: Bearer ${admin.key}' ${base}/v1/keys/${read.record.id}/usage

# 7. 200: the admin API lists org_demo's keys (the OpenAPI document is at ${base}/admin/openapi.json)
curl -s -H 'Authorization: Bearer ${keywardAdmin.key}' '${base}/admin/keys?ownerId=org_demo'

Press Ctrl+C to stop.`)
})

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: shutting down`)
  server.close()
  await keyward.close()
  await demoStore.close()
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(signal))
