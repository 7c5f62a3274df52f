/**
 * The HTTP face of a Redis outage, through the Hono adapter: fail-closed answers 503 with
 * Retry-After and a problem body that never echoes the key; fail-open keeps serving a key it has
 * seen; both are back to 200 once Redis returns on the same port.
 */

import { createKeyward } from '@keyward/core'
import { apiKeyAuth } from '@keyward/hono'
import { type FailMode, RedisStore } from '@keyward/redis'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { singleNodeClient, TEST_SECRET } from '../support/redis-fixtures.ts'
import { type RedisServer, sleep, startRedisServer } from '../support/redis-server.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  await server?.dispose()
})

describe.each(['closed', 'open'] as const)('Hono + RedisStore, failMode %s', (failMode: FailMode) => {
  it('answers as the mode promises while Redis is down, and 200 again once it is back', async () => {
    if (!(await server.cli('ping').catch(() => '')).includes('PONG')) await server.start()
    const client = singleNodeClient(server)
    await client.connect()
    const store = new RedisStore({ client, failMode, commandTimeoutMs: 300 })
    const keyward = createKeyward({
      prefix: 'acme',
      secret: TEST_SECRET,
      store,
      rateLimit: { points: 50, duration: 60 },
    })
    const app = new Hono()
    app.use('/v1/*', apiKeyAuth(keyward))
    app.get('/v1/ping', (c) => c.text('pong'))
    const call = (key: string) => app.request('/v1/ping', { headers: { authorization: `Bearer ${key}` } })
    try {
      const { key } = await keyward.keys.create({ ownerId: 'org_http' })
      while (!(store as unknown as { subscribed: boolean }).subscribed) await sleep(10)
      expect((await call(key)).status).toBe(200)
      await server.cli('save')

      await server.kill()
      await sleep(50)
      const response = await call(key)
      if (failMode === 'closed') {
        expect(response.status).toBe(503)
        expect(response.headers.get('retry-after')).toBe('1')
        expect(response.headers.get('content-type')).toContain('application/problem+json')
        const body = await response.text()
        expect(body).toContain('UNAVAILABLE')
        expect(body).not.toContain(key)
      } else {
        expect(response.status).toBe(200)
        expect(response.headers.get('ratelimit')).toContain('r=49')
      }

      await server.start()
      const deadline = Date.now() + 5000
      let status = 0
      while (status !== 200 && Date.now() < deadline) {
        status = (await call(key)).status
        if (status !== 200) await sleep(20)
      }
      expect(status).toBe(200)
    } finally {
      await keyward.close()
      client.disconnect()
    }
  })
})
