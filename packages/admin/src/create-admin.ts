/**
 * `createAdmin`: one Hono app serving the admin (or self-service) API over a keyward instance, its
 * OpenAPI 3.1 document and the web dashboard, plus the handlers that mount it in Node frameworks.
 * The options are checked once, here; the routes, access control, error mapping and dashboard
 * each live in their own module and are composed below.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, Next } from 'hono'
import type { AdminBindings, AdminEnv } from './access.ts'
import { adminKeyAccess } from './admin-keys.ts'
import { registerDashboard } from './dashboard/page.ts'
import { registerDocument } from './document.ts'
import { createErrorHandler, validationHook } from './error-handler.ts'
import { createKoaMiddleware, createNodeListener, type KoaMiddleware, type NodeListener } from './node.ts'
import { type AdminOptions, resolveAdminOptions } from './options.ts'
import { ProblemError, problemResponse } from './problems.ts'
import { registerAbuseRoutes } from './routes/abuse.ts'
import { registerKeyRoutes } from './routes/keys.ts'
import { registerOwnerRoutes } from './routes/owners.ts'
import { registerUsageRoutes } from './routes/usage.ts'
import { selfServiceAccess } from './self-service.ts'

/** An admin API, ready to serve or mount. */
export interface Admin {
  /** The Hono app: `app.mount('/admin', admin.fetch)` or `app.route('/admin', admin.app)` in Hono. */
  readonly app: OpenAPIHono<AdminEnv>
  /** The fetch handler, for any fetch runtime (Bun, Deno, Workers, `@hono/node-server`). */
  readonly fetch: (
    request: Request,
    env?: unknown,
    executionContext?: unknown,
  ) => Response | Promise<Response>
  /**
   * A Node `(req, res)` listener: `app.use('/admin', admin.nodeListener)` in Express, or
   * `http.createServer(admin.nodeListener)` on its own.
   */
  readonly nodeListener: NodeListener
  /** Koa middleware serving the API under `path`: `app.use(admin.koa('/admin'))`. */
  koa(path: string): KoaMiddleware
  /** The OpenAPI 3.1 document (what `GET /openapi.json` serves). */
  openapi(): Record<string, unknown>
}

/** API responses carry keys and key ids: never stored by a cache on the way. */
async function noStore(c: Context, next: Next): Promise<void> {
  await next()
  if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store')
}

/**
 * Creates the admin API over a keyward instance. In admin mode (the default) every request needs
 * an admin key: a keyward key with `keyward:` scopes (`keyward:keys:read`, `keyward:keys:write`,
 * `keyward:owners:read`, `keyward:owners:write`, `keyward:usage:read`, or `keyward:*`). With
 * `ownerFrom` it is a self-service API confined to the signed-in owner. Throws `ConfigError` for
 * an invalid option.
 *
 * @example
 * const admin = createAdmin({ keyward })
 * honoApp.mount('/admin', admin.fetch)          // Hono
 * expressApp.use('/admin', admin.nodeListener)  // Express
 * koaApp.use(admin.koa('/admin'))               // Koa
 * await keyward.keys.create({ ownerId: 'ops', name: 'admin', scopes: ['keyward:*'] })
 */
export function createAdmin(options: AdminOptions): Admin {
  const config = resolveAdminOptions(options)
  const app = new OpenAPIHono<AdminEnv>({ defaultHook: validationHook })
  app.onError(createErrorHandler(config.keyward))
  app.notFound(() => problemResponse(new ProblemError('ROUTE_NOT_FOUND')))
  app.use('*', noStore)

  const access = config.mode === 'admin' ? adminKeyAccess(config) : selfServiceAccess(config)
  const context = { config, access }
  registerKeyRoutes(app, context)
  registerOwnerRoutes(app, context)
  registerUsageRoutes(app, context)
  registerAbuseRoutes(app, context)
  if (config.dashboard) registerDashboard(app, config)
  const document = registerDocument(app, config)

  const fetch = (request: Request, env?: unknown, executionContext?: unknown) =>
    app.fetch(request, env as AdminBindings, executionContext as never)
  const nodeListener = createNodeListener(fetch)
  return {
    app,
    fetch,
    nodeListener,
    koa: (path) => createKoaMiddleware(nodeListener, path),
    openapi: document,
  }
}
