/**
 * The three adapters behind one neutral route description, so the conformance suite can build the
 * same app in Express, Hono and Koa and send each the same requests. Framework-specific options
 * (`skip`, `onRejected`) are derived from neutral flags here and behave identically.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Keyward, ScopeRequirement } from '@keyward/core'
import type { AuthenticatorOptions } from '@keyward/core/adapter'
import * as keywardExpress from '@keyward/express'
import * as keywardHono from '@keyward/hono'
import * as keywardKoa from '@keyward/koa'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'

export interface RouteSpec {
  path: string
  keyward: Keyward
  /** `apiKeyAuth` options; omitted → no `apiKeyAuth` on the route. */
  auth?: AuthenticatorOptions & {
    /** Skip when the request has `x-skip: yes`. */
    skipOnHeader?: boolean
    /** Answer rejections with 418 `{ "custom": true, "code": … }` via `onRejected`. */
    customRejection?: boolean
  }
  requireScopes?: ScopeRequirement
}

export type AdapterName = 'express' | 'hono' | 'koa'

export interface Adapter {
  name: AdapterName
  listener(routes: readonly RouteSpec[]): RequestListener
}

const customBody = (code: string) => JSON.stringify({ custom: true, code })

const expressAdapter: Adapter = {
  name: 'express',
  listener(routes) {
    const app = express()
    for (const route of routes) {
      const chain: express.RequestHandler[] = []
      if (route.auth !== undefined) {
        const { skipOnHeader, customRejection, ...options } = route.auth
        const full: keywardExpress.ApiKeyAuthOptions = { ...options }
        if (skipOnHeader) full.skip = (req) => req.get('x-skip') === 'yes'
        if (customRejection) {
          full.onRejected = (result, { res }) => {
            res.status(418).type('application/json').send(customBody(result.code))
          }
        }
        chain.push(keywardExpress.apiKeyAuth(route.keyward, full))
      }
      if (route.requireScopes !== undefined) chain.push(keywardExpress.requireScopes(route.requireScopes))
      app.get(route.path, ...chain, (req, res) => {
        res.json({ keyId: req.apiKey?.id ?? null, ownerId: req.apiKey?.ownerId ?? null })
      })
    }
    return app
  },
}

const honoAdapter: Adapter = {
  name: 'hono',
  listener(routes) {
    const app = new Hono()
    for (const route of routes) {
      const chain: ReturnType<typeof keywardHono.apiKeyAuth>[] = []
      if (route.auth !== undefined) {
        const { skipOnHeader, customRejection, ...options } = route.auth
        const full: keywardHono.ApiKeyAuthOptions = { ...options }
        if (skipOnHeader) full.skip = (c) => c.req.header('x-skip') === 'yes'
        if (customRejection) {
          full.onRejected = (result, c) =>
            c.body(customBody(result.code), 418, { 'Content-Type': 'application/json' })
        }
        chain.push(keywardHono.apiKeyAuth(route.keyward, full))
      }
      if (route.requireScopes !== undefined) chain.push(keywardHono.requireScopes(route.requireScopes))
      for (const middleware of chain) app.use(route.path, middleware)
      app.get(route.path, (c) => {
        const key = c.get('apiKey')
        return c.json({ keyId: key?.id ?? null, ownerId: key?.ownerId ?? null })
      })
    }
    return getRequestListener(app.fetch)
  },
}

const koaAdapter: Adapter = {
  name: 'koa',
  listener(routes) {
    const app = new Koa<keywardKoa.KeywardState>()
    const table = new Map<string, Koa.Middleware<keywardKoa.KeywardState>[]>()
    for (const route of routes) {
      const chain: Koa.Middleware<keywardKoa.KeywardState>[] = []
      if (route.auth !== undefined) {
        const { skipOnHeader, customRejection, ...options } = route.auth
        const full: keywardKoa.ApiKeyAuthOptions = { ...options }
        if (skipOnHeader) full.skip = (ctx) => ctx.get('x-skip') === 'yes'
        if (customRejection) {
          full.onRejected = (result, ctx) => {
            ctx.status = 418
            ctx.type = 'application/json'
            ctx.body = customBody(result.code)
          }
        }
        chain.push(keywardKoa.apiKeyAuth(route.keyward, full))
      }
      if (route.requireScopes !== undefined) chain.push(keywardKoa.requireScopes(route.requireScopes))
      chain.push(async (ctx) => {
        const key = ctx.state.apiKey
        ctx.body = { keyId: key?.id ?? null, ownerId: key?.ownerId ?? null }
      })
      table.set(route.path, chain)
    }
    // A minimal router: run the route's chain in order, like koa-compose.
    app.use(async (ctx, next) => {
      const chain = table.get(ctx.path)
      if (chain === undefined) return next()
      const run = async (index: number): Promise<void> => {
        const middleware = chain[index]
        if (middleware !== undefined) await middleware(ctx, () => run(index + 1))
      }
      await run(0)
    })
    return app.callback()
  },
}

export const ADAPTERS: readonly Adapter[] = [expressAdapter, honoAdapter, koaAdapter]

/** Starts `listener` on an ephemeral loopback port. */
export async function listen(listener: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}
