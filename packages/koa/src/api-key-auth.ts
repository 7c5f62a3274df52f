/**
 * Koa middleware: `apiKeyAuth` verifies the request's API key through core's authenticator and
 * puts the key on `ctx.state.apiKey`; `requireScopes` checks the key already there. Both only
 * translate between Koa and the framework-free HTTP layer in `@keyward/core`, so their responses
 * are those of every other adapter (docs/architecture.md, "Outcomes").
 */
import type { Keyward, ScopeRequirement, VerifiedKey } from '@keyward/core'
import {
  type RequireScopesOptions as CoreRequireScopesOptions,
  checkMiddlewareOptions,
  createAuthenticator,
  createScopeCheck,
  type HttpRequestView,
  type HttpResponse,
  type MiddlewareOptions,
  type RawValue,
  readRawHeader,
  warnSpoofableClientAddress,
} from '@keyward/core/adapter'
import type { Middleware, Next, ParameterizedContext } from 'koa'

/** What keyward puts on `ctx.state`: `Koa<KeywardState>` or `new Router<KeywardState>()` types it. */
export interface KeywardState {
  /** The API key `apiKeyAuth` verified for this request (absent when skipped or rejected). */
  apiKey?: VerifiedKey
}

export type KeywardContext = ParameterizedContext<KeywardState>

/** Options of `apiKeyAuth`; see `AuthenticatorOptions` in `@keyward/core` for the shared ones. */
export type ApiKeyAuthOptions = MiddlewareOptions<KeywardContext, KeywardContext, void | Promise<void>>

/** Options of `requireScopes`: `realm` (use `apiKeyAuth`'s) and `onRejected` (as for `apiKeyAuth`). */
export type RequireScopesOptions = CoreRequireScopesOptions<ApiKeyAuthOptions['onRejected']>

/** Copies a core response onto Koa's; `Content-Type` is set first so Koa does not pick its own. */
function send(ctx: KeywardContext, response: HttpResponse): void {
  ctx.status = response.status
  ctx.set(response.headers)
  ctx.body = response.body === undefined ? '' : JSON.stringify(response.body)
}

class KoaRequestView implements HttpRequestView {
  constructor(
    private readonly ctx: KeywardContext,
    readonly clientAddress: string | undefined,
  ) {}

  get context(): object {
    // Node's request, not Koa's context: the same object for every middleware of the request,
    // and one whose properties stay in fast mode. Koa's context is a dictionary, where marking it
    // authenticated cost a dictionary insert per request.
    return this.ctx.req
  }

  get rawHeaders(): readonly string[] {
    return this.ctx.req.rawHeaders
  }

  getHeader(name: string): RawValue {
    return readRawHeader(this.ctx.req.rawHeaders, name)
  }

  getQuery(name: string): RawValue {
    return this.ctx.query[name]
  }
}

/** Koa's symbol for an `ip` set on a request, per app: `null` when it could not be found. */
const ipSymbols = new WeakMap<object, symbol | null>()

/**
 * The symbol Koa's `request.ip` setter stores under, found once by calling the setter on a
 * scratch object; `null` when the setter is not there or stores something else.
 */
function ipSymbolOf(app: KeywardContext['app']): symbol | null {
  let symbol = ipSymbols.get(app)
  if (symbol !== undefined) return symbol
  symbol = null
  try {
    let setter: ((value: string) => void) | undefined
    for (let proto: object | null = app.request; proto !== null && setter === undefined; ) {
      setter = Object.getOwnPropertyDescriptor(proto, 'ip')?.set
      proto = Object.getPrototypeOf(proto)
    }
    const probe = {}
    setter?.call(probe, '127.0.0.1')
    const own = Object.getOwnPropertySymbols(probe)
    if (own.length === 1 && Object.keys(probe).length === 0) symbol = own[0] as symbol
  } catch {
    symbol = null
  }
  ipSymbols.set(app, symbol)
  return symbol
}

/**
 * `ctx.ip`, unless `app.proxy` is on with no `maxIpsCount` and the default `X-Forwarded-For`
 * header: then ctx.ip is whatever the client wrote first there, so the socket address is used
 * instead (and a warning emitted once).
 */
function defaultClientAddress(ctx: KeywardContext): string | undefined {
  const app = ctx.app
  if (app.proxy && !(app.maxIpsCount > 0) && app.proxyIpHeader.toLowerCase() === 'x-forwarded-for') {
    warnSpoofableClientAddress('koa')
    return ctx.req.socket.remoteAddress
  }
  // Without `proxy`, ctx.ip is the socket address, unless earlier middleware set
  // `ctx.request.ip` (Koa keeps that under a symbol on the request). Reading ctx.ip anyway looks
  // up X-Forwarded-For first, lower-casing the name and probing the headers with it: ~2 % of an
  // authenticated request. Koa's symbol is looked up once; without it, a request with no own
  // symbols has no ip set.
  if (!app.proxy) {
    const ip = ipSymbolOf(app)
    const set =
      ip === null ? Object.getOwnPropertySymbols(ctx.request).length > 0 : Object.hasOwn(ctx.request, ip)
    if (!set) return ctx.req.socket.remoteAddress
  }
  return ctx.ip
}

/**
 * Authenticates requests by API key. A request without a valid key never reaches the downstream
 * middleware: it gets the standard problem+json response (docs/middleware.md, "HTTP contract") (401/403/429/503, `application/problem+json`). On
 * success the key is on `ctx.state.apiKey` and the `RateLimit-Policy` / `RateLimit` headers are set.
 *
 * Options (all optional): `headers` (default `['authorization', 'x-api-key']`), `query` (default
 * off), `realm` (default `'api'`), `scopes`, `cost` (default 1 for keys with credits), `skip(ctx)`,
 * `onRejected(result, ctx, response)`, `clientAddress(ctx)` (default `ctx.ip`: behind a proxy set
 * `app.proxy = true` and `app.maxIpsCount` to the number of proxies — without it the socket
 * address is used, since X-Forwarded-For is the client's to write), `bruteForce: false` to take
 * the route out of the keyward's brute-force guard.
 * Throws `ConfigError` at once for an invalid option.
 *
 * @example
 * import { apiKeyAuth, type KeywardState } from '@keyward/koa'
 * const app = new Koa<KeywardState>()
 * app.use(apiKeyAuth(keyward, { scopes: 'orders:read' }))
 * app.use((ctx) => { ctx.body = { owner: ctx.state.apiKey?.ownerId } })
 */
export function apiKeyAuth(keyward: Keyward, options: ApiKeyAuthOptions = {}): Middleware<KeywardState> {
  checkMiddlewareOptions(options)
  const authenticator = createAuthenticator(keyward, options)
  const { skip, onRejected, clientAddress } = options

  return async function apiKeyAuth(ctx: KeywardContext, next: Next): Promise<void> {
    // `await next()`, not `return next()`: an async function resolved with a promise takes two
    // more microtask turns (a thenable job and its `then`) than one that awaits it.
    if (skip !== undefined && (await skip(ctx))) {
      await next()
      return
    }
    const address = clientAddress === undefined ? defaultClientAddress(ctx) : clientAddress(ctx)
    // Awaited only when it is a promise: a cached key on an in-memory store is answered at once.
    const authenticated = authenticator.authenticateNow(new KoaRequestView(ctx, address))
    const outcome = authenticated instanceof Promise ? await authenticated : authenticated
    if (outcome.ok) {
      ctx.state.apiKey = outcome.key
      const headers = outcome.headers
      // Straight onto Node's response, as `ctx.set` would after its checks: `ctx.set` wraps each
      // call in arrays, a map and a forEach and lower-cases the name (~1 % of a request).
      const res = ctx.res
      if (!res.headersSent) for (const name in headers) res.setHeader(name, headers[name] as string)
      await next()
      return
    }
    delete ctx.state.apiKey
    if (onRejected !== undefined) return onRejected(outcome.result, ctx, outcome.response)
    send(ctx, outcome.response)
  }
}

/**
 * Lets a request through only when the key `apiKeyAuth` put on `ctx.state.apiKey` has the scopes:
 * 401 without a verified key, 403 `insufficient_scope` naming the missing scopes otherwise.
 * Touches no store. Throws `ConfigError` at once for an invalid requirement.
 *
 * @example
 * router.delete('/v1/orders/:id', requireScopes({ anyOf: ['orders:delete', 'admin'] }), handler)
 */
export function requireScopes(
  requirement: ScopeRequirement,
  options: RequireScopesOptions = {},
): Middleware<KeywardState> {
  checkMiddlewareOptions(options)
  const check = createScopeCheck(requirement, options)
  const { onRejected } = options

  // Not async: a scope check is synchronous, and an async wrapper would cost a promise per request.
  return function requireScopes(ctx: KeywardContext, next: Next): Promise<void> {
    const failure = check(ctx.state.apiKey)
    if (failure === null) return next()
    if (onRejected !== undefined) return Promise.resolve(onRejected(failure.result, ctx, failure.response))
    send(ctx, failure.response)
    return Promise.resolve()
  }
}
