/**
 * The success headers on `@hono/node-server`, handed to the response's `writeHead` (so Node keeps
 * its fast path) rather than set with `setHeader` — over real HTTP, with the cases a handler can
 * bring: its own header of the same name, a shared header object, a stream, an error, Node's API
 * directly, another `writeHead` wrapper, a nested `apiKeyAuth`.
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
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
  it('sets nothing on the ServerResponse before the response is written, and sends both headers', async () => {
    let setBeforeWrite: string[] = ['not called']
    const app = new Hono<NodeEnv>().get('/', apiKeyAuth(keyward), (c) => {
      setBeforeWrite = c.env.outgoing.getHeaderNames()
      return c.json({ ok: true })
    })
    const response = await get(await serve(app))
    expect(response.status).toBe(200)
    expect(setBeforeWrite).toEqual([])
    expect(response.headers.get('ratelimit-policy')).toBe('"9-per-60s";q=9;w=60')
    expect(response.headers.get('ratelimit')).toBe('"9-per-60s";r=8;t=60')
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ ok: true })
  })

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

  it('leaves another writeHead wrapper in place (setting the headers on the response instead)', async () => {
    let wrapped = 0
    const app = new Hono<NodeEnv>()
    app.use('*', async (c, next) => {
      const outgoing = c.env.outgoing
      const writeHead = outgoing.writeHead
      outgoing.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
        wrapped++
        return writeHead.apply(this, args)
      } as ServerResponse['writeHead']
      await next()
    })
    app.get('/', apiKeyAuth(keyward), (c) => c.text('ok'))
    const response = await get(await serve(app))
    expect(wrapped).toBe(1)
    expect(response.headers.get('ratelimit')).toBe('"9-per-60s";r=8;t=60')
  })

  it('adds them to a status message call and to a bare writeHead through Node directly', async () => {
    const app = new Hono<NodeEnv>()
      .get('/message', apiKeyAuth(keyward), (c) => {
        c.env.outgoing.writeHead(202, 'Taken', { 'X-Direct': 'yes' })
        c.env.outgoing.end('direct')
        return RESPONSE_ALREADY_SENT
      })
      .get('/bare', apiKeyAuth(keyward), (c) => {
        c.env.outgoing.writeHead(204)
        c.env.outgoing.end()
        return RESPONSE_ALREADY_SENT
      })
    const url = await serve(app)
    const message = await get(`${url}/message`)
    expect(message.status).toBe(202)
    expect(message.statusText).toBe('Taken')
    expect(message.headers.get('x-direct')).toBe('yes')
    expect(message.headers.get('ratelimit')).toBe('"9-per-60s";r=8;t=60')
    const bare = await get(`${url}/bare`)
    expect(bare.status).toBe(204)
    expect(bare.headers.get('ratelimit')).toBe('"9-per-60s";r=7;t=60')
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
