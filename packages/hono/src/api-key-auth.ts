/**
 * Hono middleware: `apiKeyAuth` verifies the request's API key through core's authenticator and
 * sets it as the context variable `apiKey`; `requireScopes` checks the key already there. Both
 * only translate between Hono and the framework-free HTTP layer in `@keyward/core`, so their
 * responses are those of every other adapter (docs/architecture.md, "Outcomes").
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
} from '@keyward/core/adapter'
import type { Context, MiddlewareHandler, Next } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** The context variables keyward sets: `new Hono<{ Variables: Variables }>()` types `c.get('apiKey')`. */
export type Variables = {
  /** The API key `apiKeyAuth` verified for this request. */
  apiKey: VerifiedKey
}

/** The Hono `Env` of routes behind `apiKeyAuth`. */
export type KeywardEnv = { Variables: Variables }

/** Options of `apiKeyAuth`; see `AuthenticatorOptions` in `@keyward/core` for the shared ones. */
export type ApiKeyAuthOptions = MiddlewareOptions<Context, Context, Response | Promise<Response>>

/** Options of `requireScopes`: `realm` (use `apiKeyAuth`'s) and `onRejected` (as for `apiKeyAuth`). */
export type RequireScopesOptions = CoreRequireScopesOptions<ApiKeyAuthOptions['onRejected']>

/** Node's request, when running on `@hono/node-server` (what its `getConnInfo` reads too). */
interface NodeIncoming {
  rawHeaders: string[]
  socket?: { remoteAddress?: string }
}

/** Node's response on `@hono/node-server`: headers set here are merged into the final `writeHead`. */
interface NodeOutgoing {
  headersSent: boolean
  setHeader(name: string, value: string): unknown
}

interface NodeBindings {
  incoming?: NodeIncoming
  outgoing?: NodeOutgoing
}

function nodeBindings(c: Context): NodeBindings | undefined {
  const env = c.env as (NodeBindings & { server?: NodeBindings }) | undefined
  return env?.server ?? env
}

function nodeIncoming(c: Context): NodeIncoming | undefined {
  return nodeBindings(c)?.incoming
}

/**
 * The client address on `@hono/node-server`: the socket's remote address, as its `getConnInfo`
 * returns it. On other runtimes it is `undefined` (the brute-force guard then does not apply):
 * pass `clientAddress: (c) => getConnInfo(c).remote.address` with your runtime's `getConnInfo`.
 */
export function nodeClientAddress(c: Context): string | undefined {
  return nodeIncoming(c)?.socket?.remoteAddress
}

function send(c: Context, response: HttpResponse): Response {
  // c.body keeps headers earlier middleware prepared (e.g. CORS) on the rejection too.
  return c.body(
    response.body === undefined ? '' : JSON.stringify(response.body),
    response.status as ContentfulStatusCode,
    response.headers,
  )
}

class HonoRequestView implements HttpRequestView {
  constructor(
    private readonly c: Context,
    private readonly incoming: NodeIncoming | undefined,
    readonly clientAddress: string | undefined,
  ) {}

  get context(): object {
    return this.c
  }

  get rawHeaders(): readonly string[] | undefined {
    return this.incoming?.rawHeaders
  }

  getHeader(name: string): RawValue {
    // On Node, read every copy of the header (like the Express and Koa adapters); the Fetch
    // `Headers` elsewhere join copies with ", ", which the key check rejects just the same.
    if (this.incoming !== undefined) return readRawHeader(this.incoming.rawHeaders, name)
    return this.c.req.raw.headers.get(name) ?? undefined
  }

  getQuery(name: string): RawValue {
    return this.c.req.queries(name)
  }
}

/**
 * Authenticates requests by API key. A request without a valid key never reaches the handler: it
 * gets the standard problem+json response (docs/middleware.md, "HTTP contract") (401/403/429/503, `application/problem+json`). On success the key
 * is `c.get('apiKey')` and the `RateLimit-Policy` / `RateLimit` headers are set.
 *
 * Options (all optional): `headers` (default `['authorization', 'x-api-key']`), `query` (default
 * off), `realm` (default `'api'`), `scopes`, `cost` (default 1 for keys with credits), `skip(c)`,
 * `onRejected(result, c, response)` returning a `Response`, `clientAddress(c)` (default: the
 * socket address on `@hono/node-server`, see `nodeClientAddress`; `x-forwarded-for` is never
 * trusted by default), `bruteForce: false` to take the route out of the keyward's brute-force guard.
 * Throws `ConfigError` at once for an invalid option.
 *
 * @example
 * import { apiKeyAuth, requireScopes } from '@keyward/hono'
 * app.use('/v1/*', apiKeyAuth(keyward))
 * app.post('/v1/orders', requireScopes('orders:write'), (c) => c.json({ owner: c.get('apiKey')?.ownerId }))
 */
export function apiKeyAuth(keyward: Keyward, options: ApiKeyAuthOptions = {}): MiddlewareHandler<KeywardEnv> {
  checkMiddlewareOptions(options)
  const authenticator = createAuthenticator(keyward, options)
  const { skip, onRejected, clientAddress } = options

  return async function apiKeyAuth(c: Context<KeywardEnv>, next: Next): Promise<Response | undefined> {
    if (skip !== undefined && (await skip(c))) {
      await next()
      return
    }
    const bindings = nodeBindings(c)
    const incoming = bindings?.incoming
    const address = clientAddress === undefined ? incoming?.socket?.remoteAddress : clientAddress(c)
    const outcome = await authenticator.authenticate(new HonoRequestView(c, incoming, address))
    if (outcome.ok) {
      c.set('apiKey', outcome.key)
      const headers = outcome.headers
      const outgoing = bindings?.outgoing
      if (outgoing !== undefined && !outgoing.headersSent) {
        // On Node, set them on the ServerResponse: Node merges them into @hono/node-server's
        // writeHead, and c.header() would turn every response into a slow `Headers` instance
        // (half the throughput of a bare route). A header the handler sets itself still wins.
        for (const name in headers) outgoing.setHeader(name, headers[name] as string)
      } else {
        for (const name in headers) c.header(name, headers[name] as string)
      }
      await next()
      return
    }
    if (onRejected !== undefined) return onRejected(outcome.result, c, outcome.response)
    return send(c, outcome.response)
  }
}

/**
 * Lets a request through only when the key `apiKeyAuth` set as `apiKey` has the scopes: 401
 * without a verified key, 403 `insufficient_scope` naming the missing scopes otherwise. Touches
 * no store. Throws `ConfigError` at once for an invalid requirement.
 *
 * @example
 * app.delete('/v1/orders/:id', requireScopes({ anyOf: ['orders:delete', 'admin'] }), handler)
 */
export function requireScopes(
  requirement: ScopeRequirement,
  options: RequireScopesOptions = {},
): MiddlewareHandler<KeywardEnv> {
  checkMiddlewareOptions(options)
  const check = createScopeCheck(requirement, options)
  const { onRejected } = options

  // Not async: a scope check is synchronous; passing `next()`'s promise straight through saves an
  // async frame per request on the hot path.
  return function requireScopes(c: Context<KeywardEnv>, next: Next): Promise<Response | undefined> {
    const failure = check(c.get('apiKey') as VerifiedKey | undefined)
    if (failure === null) return next() as Promise<undefined>
    if (onRejected !== undefined) return Promise.resolve(onRejected(failure.result, c, failure.response))
    return Promise.resolve(send(c, failure.response))
  }
}
