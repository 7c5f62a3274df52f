/**
 * The success headers on `@hono/node-server` (set on Node's `ServerResponse`, merged into the
 * response `@hono/node-server` writes) over real HTTP, with the cases a handler can bring: its own
 * header of the same name, a shared header object, a stream, an error, a nested `apiKeyAuth`.
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { createKeyward, type Keyward } from '@keyward/core'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { apiKeyAuth, type KeywardEnv } from './index.ts'

type NodeEnv = KeywardEnv & { Bindings: { incoming: unknown; outgoing: ServerResponse } }

let keyward: Keyward
let key: string
let server: Server | undefined

beforeEach(async () => {
  keyward = createKeyward()
  ;({ key } = await keyward.keys.create({ ownerId: 'org_1', rateLimit: { points: 9, duration: 60 } }))
})

afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  server = undefined
  await keyward.close()
})

async function serve(app: Hono<NodeEnv>): Promise<string> {
  server = createServer(getRequestListener(app.fetch))
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const get = (url: string) => fetch(url, { headers: { authorization: `Bearer ${key}` } })

describe('@keyward/hono on Node: the RateLimit headers of a response', () => {
  it('lets a header of the same name the handler sets win, in any case, without sending two', async () => {
    const app = new Hono<NodeEnv>()
      .get('/header', apiKeyAuth(keyward), (c) => {
        c.header('RateLimit', '"mine";r=1;t=1')
        return c.text('ok')
      })
      .get('/node', apiKeyAuth(keyward), (c) => {
        c.env.outgoing.setHeader('ratelimit-policy', '"mine";q=1;w=1')
        return c.text('ok')
      })
    const url = await serve(app)
    const fromHono = await get(`${url}/header`)
    expect(fromHono.headers.get('ratelimit')).toBe('"mine";r=1;t=1')
    expect(fromHono.headers.get('ratelimit-policy')).toBe('"9-per-60s";q=9;w=60')
    const fromNode = await get(`${url}/node`)
    expect(fromNode.headers.get('ratelimit-policy')).toBe('"mine";q=1;w=1')
    expect(fromNode.headers.get('ratelimit')).toBe('"9-per-60s";r=7;t=60')
  })

  it('copies a header object the handler shares between responses, and never changes it', async () => {
    const shared = Object.freeze({ 'X-Shared': 'yes', ratelimit: '"shared";r=5;t=5' })
    const app = new Hono<NodeEnv>().get('/', apiKeyAuth(keyward), (c) => c.body('ok', 200, shared))
    const url = await serve(app)
    for (let i = 0; i < 2; i++) {
      const response = await get(url)
      expect(response.headers.get('x-shared')).toBe('yes')
      expect(response.headers.get('ratelimit')).toBe('"shared";r=5;t=5')
      expect(response.headers.get('ratelimit-policy')).toBe('"9-per-60s";q=9;w=60')
    }
    expect(shared).toEqual({ 'X-Shared': 'yes', ratelimit: '"shared";r=5;t=5' })
  })

  it('sends them on a streamed response and on an error the handler throws', async () => {
    const app = new Hono<NodeEnv>()
      .get('/stream', apiKeyAuth(keyward), (c) => {
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('chunk'))
            controller.close()
          },
        })
        return c.body(body)
      })
      .get('/throw', apiKeyAuth(keyward), () => {
        throw new Error('boom')
      })
    app.onError((_error, c) => c.text('failed', 500))
    const url = await serve(app)
    const streamed = await get(`${url}/stream`)
    expect(await streamed.text()).toBe('chunk')
    expect(streamed.headers.get('ratelimit')).toBe('"9-per-60s";r=8;t=60')
    const failed = await get(`${url}/throw`)
    expect(failed.status).toBe(500)
    expect(failed.headers.get('ratelimit')).toBe('"9-per-60s";r=7;t=60')
  })

  it('keeps the headers of the outer apiKeyAuth when a nested one of the same keyward runs', async () => {
    const app = new Hono<NodeEnv>()
    app.use('/v1/*', apiKeyAuth(keyward))
    app.get('/v1/orders', apiKeyAuth(keyward, { scopes: [] }), (c) => c.text('ok'))
    const response = await get(`${await serve(app)}/v1/orders`)
    expect(response.status).toBe(200)
    expect(response.headers.get('ratelimit-policy')).toBe('"9-per-60s";q=9;w=60')
    expect(response.headers.get('ratelimit')).toBe('"9-per-60s";r=8;t=60')
  })
})
