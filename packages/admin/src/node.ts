/**
 * Serving the admin app from Node frameworks: a `(req, res)` listener for Express and plain
 * `http` (built on `@hono/node-server`, without replacing the process's global `Request` and
 * `Response`), and a Koa middleware that serves it under a path. Both keep the Node request on
 * `c.env.incoming`, so `apiKeyAuth` reads the socket address and raw headers as it does on Hono.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { ConfigError } from '@keyward/core'

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/** The parts of Koa's `ctx` the middleware uses (Koa is not a dependency). */
export interface KoaContextLike {
  path: string
  req: IncomingMessage
  res: ServerResponse
  respond?: boolean
  request: { rawBody?: unknown }
}

export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<unknown>

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>

interface ParsedRequest extends IncomingMessage {
  body?: unknown
  rawBody?: Buffer
}

const koaContexts = new WeakMap<IncomingMessage, KoaContextLike>()

/**
 * A body parser mounted before the admin API (`express.json()`, koa-bodyparser) has read the
 * stream already: hand its bytes to `@hono/node-server` as `rawBody`, which it reads instead.
 */
function keepParsedBody(req: ParsedRequest, raw: unknown): void {
  if (!req.readableEnded || req.rawBody !== undefined) return
  if (typeof raw === 'string') req.rawBody = Buffer.from(raw)
  else if (Buffer.isBuffer(raw)) req.rawBody = raw
  else if (typeof req.body === 'string') req.rawBody = Buffer.from(req.body)
  else if (req.body !== undefined && typeof req.body === 'object')
    req.rawBody = Buffer.from(JSON.stringify(req.body))
}

export function createNodeListener(fetch: Fetch): NodeListener {
  const listener = getRequestListener(
    (request, env) => {
      const koa = koaContexts.get(env.incoming as IncomingMessage)
      return fetch(request, koa === undefined ? env : { ...env, koa })
    },
    { overrideGlobalObjects: false },
  )
  return function keywardAdmin(req, res) {
    keepParsedBody(req, undefined)
    return listener(req, res)
  }
}

/** Validates a mount path once: `/admin`, `/account/keys` (no trailing slash; `/` for the root). */
function checkPath(path: unknown): string {
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path) || /\/\//.test(path)) {
    throw new ConfigError('path', "must be a URL path such as '/admin'")
  }
  return path.replace(/\/$/, '')
}

export function createKoaMiddleware(listener: NodeListener, path: string): KoaMiddleware {
  const prefix = checkPath(path)
  return async function keywardAdmin(ctx, next) {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) return next()
    // Koa leaves the response to us; the app below sees paths relative to the mount, like Express.
    ctx.respond = false
    const req = ctx.req as ParsedRequest
    const url = req.url ?? '/'
    const rest = url.slice(prefix.length)
    req.url = rest.startsWith('/') ? rest : `/${rest}`
    koaContexts.set(req, ctx)
    keepParsedBody(req, ctx.request.rawBody)
    try {
      await listener(req, ctx.res)
    } finally {
      req.url = url
    }
  }
}
