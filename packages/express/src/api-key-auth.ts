/**
 * Express middleware: `apiKeyAuth` verifies the request's API key through core's authenticator
 * and puts the key on `req.apiKey`; `requireScopes` checks the key already there. Both only
 * translate between Express and the framework-free HTTP layer in `@keyward/core`, so their
 * responses are those of every other adapter (docs/architecture.md, "Outcomes").
 */
import type { Keyward, ScopeRequirement } from '@keyward/core'
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
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** The second argument of `onRejected`. */
export interface ExpressRejectionContext {
  req: Request
  res: Response
}

/** Options of `apiKeyAuth`; see `AuthenticatorOptions` in `@keyward/core` for the shared ones. */
export type ApiKeyAuthOptions = MiddlewareOptions<Request, ExpressRejectionContext, void | Promise<void>>

/** Options of `requireScopes`: `realm` (use `apiKeyAuth`'s) and `onRejected` (as for `apiKeyAuth`). */
export type RequireScopesOptions = CoreRequireScopesOptions<ApiKeyAuthOptions['onRejected']>

/** Copies a core response onto Express's, byte for byte: Node's `setHeader`, not `res.set`/`res.json`, which add a charset. */
function send(res: Response, response: HttpResponse): void {
  res.statusCode = response.status
  const headers = response.headers
  for (const name in headers) res.setHeader(name, headers[name] as string)
  res.end(response.body === undefined ? '' : JSON.stringify(response.body))
}

class ExpressRequestView implements HttpRequestView {
  constructor(
    private readonly req: Request,
    readonly clientAddress: string | undefined,
  ) {}

  get context(): object {
    return this.req
  }

  get rawHeaders(): readonly string[] {
    return this.req.rawHeaders
  }

  getHeader(name: string): RawValue {
    return readRawHeader(this.req.rawHeaders, name)
  }

  getQuery(name: string): RawValue {
    return (this.req.query as Record<string, RawValue>)[name]
  }
}

/**
 * `req.ip`, unless `trust proxy` is `true`: then req.ip is whatever the client wrote first in
 * `X-Forwarded-For`, so the socket address is used instead (and a warning emitted once).
 */
function defaultClientAddress(req: Request): string | undefined {
  if (req.app.get('trust proxy') === true) {
    warnSpoofableClientAddress('express')
    return req.socket.remoteAddress
  }
  return req.ip
}

/**
 * Authenticates requests by API key. A request without a valid key never reaches the next handler:
 * it gets the standard problem+json response (docs/middleware.md, "HTTP contract") (401/403/429/503, `application/problem+json`). On success the
 * key is on `req.apiKey` and the `RateLimit-Policy` / `RateLimit` headers are set.
 *
 * Options (all optional): `headers` (default `['authorization', 'x-api-key']`), `query` (default
 * off), `realm` (default `'api'`), `scopes`, `cost` (default 1 for keys with credits), `skip(req)`,
 * `onRejected(result, { req, res }, response)`, `clientAddress(req)` (default `req.ip`: behind a
 * proxy set Express's `trust proxy` to the hop count or the proxy's address — with `true` the
 * socket address is used, since X-Forwarded-For is the client's to write), `bruteForce: false` to
 * take the route out of the keyward's brute-force guard.
 * Throws `ConfigError` at once for an invalid option.
 *
 * @example
 * import { apiKeyAuth, requireScopes } from '@keyward/express'
 * app.use('/v1', apiKeyAuth(keyward))
 * app.post('/v1/orders', requireScopes('orders:write'), (req, res) => res.json({ owner: req.apiKey?.ownerId }))
 */
export function apiKeyAuth(keyward: Keyward, options: ApiKeyAuthOptions = {}): RequestHandler {
  checkMiddlewareOptions(options)
  const authenticator = createAuthenticator(keyward, options)
  const { skip, onRejected, clientAddress } = options

  return async function apiKeyAuth(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (skip !== undefined && (await skip(req))) return next()
    const address = clientAddress === undefined ? defaultClientAddress(req) : clientAddress(req)
    // Awaited only when it is a promise: a cached key on an in-memory store is answered at once.
    const authenticated = authenticator.authenticateNow(new ExpressRequestView(req, address))
    const outcome = authenticated instanceof Promise ? await authenticated : authenticated
    if (outcome.ok) {
      req.apiKey = outcome.key
      const headers = outcome.headers
      for (const name in headers) res.setHeader(name, headers[name] as string)
      return next()
    }
    delete req.apiKey
    if (onRejected !== undefined) return onRejected(outcome.result, { req, res }, outcome.response)
    send(res, outcome.response)
  }
}

/**
 * Lets a request through only when the key `apiKeyAuth` put on `req.apiKey` has the scopes:
 * 401 without a verified key, 403 `insufficient_scope` naming the missing scopes otherwise.
 * Touches no store. Throws `ConfigError` at once for an invalid requirement.
 *
 * @example
 * app.delete('/v1/orders/:id', requireScopes({ anyOf: ['orders:delete', 'admin'] }), handler)
 */
export function requireScopes(
  requirement: ScopeRequirement,
  options: RequireScopesOptions = {},
): RequestHandler {
  checkMiddlewareOptions(options)
  const check = createScopeCheck(requirement, options)
  const { onRejected } = options

  // Not async: a scope check is synchronous, and an async wrapper would cost a promise per request.
  return function requireScopes(req: Request, res: Response, next: NextFunction): void | Promise<void> {
    const failure = check(req.apiKey)
    if (failure === null) return next()
    if (onRejected !== undefined) return onRejected(failure.result, { req, res }, failure.response)
    send(res, failure.response)
  }
}
