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

/** Node's response on `@hono/node-server` (a `ServerResponse`). */
interface NodeOutgoing {
  headersSent: boolean
  setHeader(name: string, value: string): unknown
  hasHeader(name: string): boolean
  writeHead(statusCode: number, ...rest: unknown[]): unknown
  [SUCCESS_HEADERS]?: Readonly<Record<string, string>> | undefined
}

/** The success headers a response still has to send, kept on Node's response until `writeHead`. */
const SUCCESS_HEADERS: unique symbol = Symbol('keyward.successHeaders')

/**
 * `writeHead` of a response keyward authenticated, installed on that response (as the `on-headers`
 * package does for Express): it adds the `RateLimit-Policy` / `RateLimit` headers to the plain
 * header object `@hono/node-server` writes the response with, so Node keeps its fast `writeHead`.
 * Set beforehand with `setHeader`, they sent every response down Node's slow path (each header
 * lower-cased and kept in a dictionary, the response's own headers merged in one `setHeader` at a
 * time): ~3 % of the instructions of an authenticated request (`pnpm bench instructions`). A header
 * of the same name the handler sent wins, and the handler's header object is copied, never changed.
 */
function writeHeadWithSuccessHeaders(
  this: NodeOutgoing,
  statusCode: number,
  reason?: unknown,
  given?: unknown,
): unknown {
  const write = (Object.getPrototypeOf(this) as NodeOutgoing).writeHead
  const headers = this[SUCCESS_HEADERS]
  // writeHead(statusCode[, statusMessage][, headers])
  const message = typeof reason === 'string' ? reason : undefined
  let list = message === undefined ? reason : given
  if (headers !== undefined) {
    this[SUCCESS_HEADERS] = undefined
    if (list === undefined || list === null) {
      list = headers
    } else if (typeof list === 'object' && !Array.isArray(list)) {
      const merged: Record<string, unknown> = Object.assign({}, list as Record<string, unknown>)
      for (const name in headers) {
        if (!ownsHeader(list as Record<string, unknown>, name) && !this.hasHeader(name)) {
          merged[name] = headers[name]
        }
      }
      list = merged
    } else {
      // A [name, value, …] list (rare): set them first, and Node's merge lets the list win.
      for (const name in headers) if (!this.hasHeader(name)) this.setHeader(name, headers[name] as string)
    }
  }
  return message === undefined
    ? write.call(this, statusCode, list)
    : write.call(this, statusCode, message, list)
}

/** Does the header object already name `name` (header names are case-insensitive)? */
function ownsHeader(given: Record<string, unknown>, name: string): boolean {
  for (const key in given) {
    if (key.length === name.length && key.toLowerCase() === name.toLowerCase()) return true
  }
  return false
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
    // Awaited only when it is a promise: a cached key on an in-memory store is answered at once.
    const authenticated = authenticator.authenticateNow(new HonoRequestView(c, incoming, address))
    const outcome = authenticated instanceof Promise ? await authenticated : authenticated
    if (outcome.ok) {
      c.set('apiKey', outcome.key)
      const headers = outcome.headers
      const outgoing = bindings?.outgoing
      if (outgoing !== undefined && !outgoing.headersSent) {
        // On Node, hand them to the response's writeHead (see writeHeadWithSuccessHeaders):
        // c.header() would turn every response into a slow `Headers` instance (half the
        // throughput of a bare route).
        if (outgoing.writeHead === writeHeadWithSuccessHeaders) {
          // A second apiKeyAuth on this request: its headers join the first one's.
          const pending = outgoing[SUCCESS_HEADERS]
          outgoing[SUCCESS_HEADERS] = pending === undefined ? headers : { ...pending, ...headers }
        } else if (!Object.hasOwn(outgoing, 'writeHead')) {
          outgoing[SUCCESS_HEADERS] = headers
          outgoing.writeHead = writeHeadWithSuccessHeaders
        } else {
          // Something else already wraps this response's writeHead: leave it be, let Node merge.
          for (const name in headers) outgoing.setHeader(name, headers[name] as string)
        }
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
