/**
 * `createAuthenticator`: everything an HTTP middleware does, minus the framework. It validates the
 * options once, then per request finds the key, asks the keyward's brute-force guard whether the
 * client may try it, verifies it (with the route's scopes and cost), tells the guard how it went
 * and maps the outcome to a response. The Express, Hono and Koa adapters
 * only translate their request into an `HttpRequestView` and copy the result onto their response,
 * so all three answer byte-for-byte alike.
 */
import { ConfigError, KeywardError } from '../errors.ts'
import type { BruteForceGuard, GuardAttempt } from '../guard/brute-force-guard.ts'
import { keyIdOf } from '../key-format.ts'
import type { Keyward } from '../keyward/create-keyward.ts'
import { IMMEDIATE_VERIFY, type ImmediateVerify } from '../keyward/immediate-verify.ts'
import { checkRequirement, missingScopes, type ScopeRequirement, satisfies } from '../scopes.ts'
import type {
  InsufficientScopeFailure,
  MalformedFailure,
  MissingFailure,
  VerifiedKey,
  VerifyResult,
  VerifySuccess,
} from '../types.ts'
import { checkFunction, checkInteger, checkObject } from '../validation.ts'
import { extractKey, type HttpRequestView } from './extract-key.ts'
import {
  type AuthFailure,
  type HttpResponse,
  isValidRealm,
  successHeaders,
  toHttpResponse,
} from './http-response.ts'

export interface AuthenticatorOptions {
  /**
   * Headers to read the key from, in order. `authorization` is read as `Bearer <key>` (scheme
   * case-insensitive); any other header holds the bare key.
   * @default ['authorization', 'x-api-key']
   */
  headers?: readonly string[]
  /** Name of a query parameter that may carry the key (e.g. `'api_key'`); keys in URLs end up in
   * logs, so this is off unless named. @default false */
  query?: string | false
  /** `realm` of the `WWW-Authenticate` challenge. @default 'api' */
  realm?: string
  /** Scopes every request must have (a scope, an array for all of, `{ anyOf }` / `{ allOf }`). @default none */
  scopes?: ScopeRequirement
  /** Credits each request spends, for keys with credits. @default 1 */
  cost?: number
  /**
   * `false` takes this route out of the keyward's brute-force guard (configured once, for every
   * route, with `createKeyward({ bruteForce })`): its failures are not counted and a blocked
   * address is not refused here. @default the keyward's guard
   */
  bruteForce?: false
}

/** Options every adapter's `apiKeyAuth` takes on top of `AuthenticatorOptions`. */
export interface MiddlewareOptions<TRequest, TContext, TRejected> extends AuthenticatorOptions {
  /** Return true to let a request through without a key (e.g. a health check). @default none */
  skip?: (request: TRequest) => boolean | Promise<boolean>
  /**
   * Sends a custom response for a rejected request instead of the default problem+json one.
   * `response` is that default (status, headers, body), to reuse or adapt.
   * @default none: the standard problem+json response
   */
  onRejected?: (result: AuthFailure, context: TContext, response: HttpResponse) => TRejected
  /**
   * The client address the brute-force guard counts failures by and `allowedNetworks` are checked
   * against. Defaults differ per framework (Express `req.ip`, Koa `ctx.ip` — each falling back to
   * the socket address when the proxy setting would let clients choose it — and Hono the socket's
   * remote address on Node); return `undefined` to exempt a request from the guard.
   */
  clientAddress?: (request: TRequest) => string | undefined
}

/** Options of every adapter's `requireScopes`; `TOnRejected` is that adapter's `onRejected`. */
export interface RequireScopesOptions<TOnRejected> {
  /** `realm` of the `WWW-Authenticate` challenge; use the one given to `apiKeyAuth`. @default 'api' */
  realm?: string
  /** A custom response instead of the default 401/403 problem, as for `apiKeyAuth`. @default none */
  onRejected?: TOnRejected
}

/** Validates the adapter-level function options (`skip`, `onRejected`, `clientAddress`). */
export function checkMiddlewareOptions(options: unknown): void {
  const { skip, onRejected, clientAddress } = checkObject('options', options)
  checkFunction('skip', skip)
  checkFunction('onRejected', onRejected)
  checkFunction('clientAddress', clientAddress)
}

export type AuthenticationSuccess = {
  ok: true
  key: VerifiedKey
  result: VerifySuccess
  /** Headers for the successful response (`RateLimit-Policy`, `RateLimit`); do not mutate. */
  headers: Readonly<Record<string, string>>
}

export type AuthenticationFailure = {
  ok: false
  result: AuthFailure
  response: HttpResponse
}

export type Authentication = AuthenticationSuccess | AuthenticationFailure

export interface Authenticator {
  readonly realm: string
  /**
   * Authenticates one request. A request an apiKeyAuth of the same keyward already authenticated
   * (same `context`) is not verified again: only this authenticator's scopes are checked and its
   * cost topped up.
   */
  authenticate(request: HttpRequestView): Promise<Authentication>
  /**
   * `authenticate`, answered at once when nothing on the way needs I/O (a cached key on an
   * in-memory store), else its promise. May throw where `authenticate` would reject: for an
   * adapter's async middleware, which then awaits nothing it does not have to.
   */
  authenticateNow(request: HttpRequestView): Authentication | Promise<Authentication>
}

/** Requests already authenticated, by their framework object (`req`, `c`, `ctx`). */
interface AuthenticatedRequest {
  keyward: Keyward
  key: VerifiedKey
  /** Credits requested so far for this request (each apiKeyAuth's cost, the largest wins). */
  cost: number
}

/**
 * Where a request's authentication is kept on its framework object: a symbol property, not a
 * `WeakMap` — one WeakMap entry per request was a measurable part of the hot path and of the
 * garbage collector's work (weak tables are swept specially).
 */
const AUTHENTICATED: unique symbol = Symbol('keyward.authenticated')

type Marked = { [AUTHENTICATED]?: AuthenticatedRequest }

/** For the rare framework object that cannot take a property (frozen, sealed): a WeakMap. */
const sealedRequests = new WeakMap<object, AuthenticatedRequest>()
let anySealed = false

function authenticatedAs(context: object): AuthenticatedRequest | undefined {
  return (context as Marked)[AUTHENTICATED] ?? (anySealed ? sealedRequests.get(context) : undefined)
}

function markAuthenticated(context: object, request: AuthenticatedRequest): void {
  if (Object.isExtensible(context)) {
    ;(context as Marked)[AUTHENTICATED] = request
  } else {
    anySealed = true
    sealedRequests.set(context, request)
  }
}
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** `Authorization: Bearer <key>`, the `X-API-Key` header or the `api_key` query parameter. */
function describeAccepted(headers: readonly string[], query: string | null): string {
  const ways = headers.map((name) =>
    name === 'authorization' ? '`Authorization: Bearer <key>`' : `the \`${displayName(name)}\` header`,
  )
  if (query !== null) ways.push(`the \`${query}\` query parameter`)
  return ways.length === 1 ? (ways[0] as string) : `${ways.slice(0, -1).join(', ')} or ${ways.at(-1)}`
}

/** `x-api-key` → `X-API-Key`: header names as people write them. */
function displayName(name: string): string {
  return name
    .split('-')
    .map((part) =>
      part === 'api' || part === 'id' ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1),
    )
    .join('-')
}

function withDetail(failure: AuthenticationFailure, detail: string): AuthenticationFailure {
  const body = failure.response.body
  return body === undefined
    ? failure
    : { ...failure, response: { ...failure.response, body: { ...body, detail } } }
}

export const DEFAULT_KEY_HEADERS: readonly string[] = Object.freeze(['authorization', 'x-api-key'])
export const DEFAULT_REALM = 'api'

/** RFC 9110 token: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/
const QUERY_NAME = /^[A-Za-z0-9._~-]{1,64}$/

const MISSING_RESULT: MissingFailure = Object.freeze({ valid: false, code: 'MISSING' })
const MALFORMED_RESULT: MalformedFailure = Object.freeze({ valid: false, code: 'MALFORMED' })

export function resolveRealm(realm: unknown): string {
  if (realm === undefined) return DEFAULT_REALM
  if (!isValidRealm(realm)) {
    throw new ConfigError('realm', 'must be 1–128 printable ASCII characters without `"` or `\\`')
  }
  return realm
}

/** Validates a scope requirement at factory time, as a `ConfigError`. */
export function resolveRequirement(field: string, requirement: unknown): ScopeRequirement {
  try {
    return checkRequirement(field, requirement)
  } catch (error) {
    if (error instanceof KeywardError && !(error instanceof ConfigError)) {
      throw new ConfigError(field, error.message.replace(/^keyward: invalid `[^`]*`: /, ''))
    }
    throw error
  }
}

function resolveHeaders(headers: unknown): readonly string[] {
  if (headers === undefined) return DEFAULT_KEY_HEADERS
  if (!Array.isArray(headers)) throw new ConfigError('headers', 'must be an array of header names')
  const names = headers.map((name, index) => {
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
      throw new ConfigError(`headers[${index}]`, `${JSON.stringify(name)} is not a header name`)
    }
    return name.toLowerCase()
  })
  return Object.freeze([...new Set(names)])
}

function resolveQuery(query: unknown): string | null {
  if (query === undefined || query === false) return null
  if (typeof query !== 'string' || !QUERY_NAME.test(query)) {
    throw new ConfigError('query', 'must be false or a parameter name of 1–64 characters A-Z a-z 0-9 . _ ~ -')
  }
  return query
}

/** True unless the route opts out of the keyward's guard. */
function resolveGuarded(bruteForce: unknown): boolean {
  if (bruteForce === undefined) return true
  if (bruteForce === false) return false
  throw new ConfigError(
    'bruteForce',
    'the brute-force guard is configured once, on createKeyward({ bruteForce }); here only `false` (take this route out of it) is allowed',
  )
}

function resolveCost(cost: unknown): number | undefined {
  return cost === undefined ? undefined : checkInteger('cost', cost)
}

/**
 * A scope check for `requireScopes`, validated once: `check(key)` answers 401 when the request
 * carries no verified key and 403 (`insufficient_scope`, naming the missing scopes) when the key
 * lacks them, `null` when it may pass. Touches no store.
 *
 * @example
 * const check = createScopeCheck('orders:write', { realm: 'api' })
 * const failure = check(req.apiKey)
 */
export function createScopeCheck(
  requirement: ScopeRequirement,
  options: { realm?: string } = {},
): (key: VerifiedKey | undefined) => AuthenticationFailure | null {
  const required = resolveRequirement('requirement', requirement)
  const realm = resolveRealm(options?.realm)
  return function checkScopes(key) {
    if (key === undefined || key === null) {
      return { ok: false, result: MISSING_RESULT, response: toHttpResponse(MISSING_RESULT, { realm }) }
    }
    if (satisfies(key.scopes, required)) return null
    const result: InsufficientScopeFailure = {
      valid: false,
      code: 'INSUFFICIENT_SCOPE',
      key,
      missingScopes: missingScopes(key.scopes, required),
    }
    return { ok: false, result, response: toHttpResponse(result, { realm }) }
  }
}

/**
 * Creates the framework-free authenticator behind every `apiKeyAuth`. Throws `ConfigError` for an
 * invalid option, at once.
 *
 * @example
 * const authenticator = createAuthenticator(keyward, { scopes: 'orders:read' })
 * const outcome = await authenticator.authenticate({
 *   getHeader: (name) => req.headersDistinct[name],
 *   getQuery: () => undefined,
 *   clientAddress: req.socket.remoteAddress,
 * })
 * if (!outcome.ok) res.writeHead(outcome.response.status, outcome.response.headers).end(JSON.stringify(outcome.response.body))
 */
export function createAuthenticator(keyward: Keyward, options: AuthenticatorOptions = {}): Authenticator {
  if (
    keyward === null ||
    typeof keyward !== 'object' ||
    typeof keyward.verify !== 'function' ||
    typeof keyward.guard?.admit !== 'function'
  ) {
    throw new ConfigError('keyward', 'must be a keyward instance from createKeyward()')
  }
  checkObject('options', options)
  const headers = resolveHeaders(options.headers)
  const query = resolveQuery(options.query)
  if (headers.length === 0 && query === null) {
    throw new ConfigError('headers', 'name at least one header (or a `query` parameter) to read the key from')
  }
  const realm = resolveRealm(options.realm)
  const scopes = options.scopes === undefined ? undefined : resolveRequirement('scopes', options.scopes)
  const cost = resolveCost(options.cost)
  const guard = resolveGuarded(options.bruteForce) && keyward.guard.enabled ? keyward.guard : null

  const responseOptions = { realm }
  // What a request without a usable key is told: which headers (and scheme) carry the key.
  const accepted = describeAccepted(headers, query)
  const missing = withDetail(reject(MISSING_RESULT), `This request needs an API key: send it as ${accepted}.`)
  const wrongScheme = withDetail(
    reject(MISSING_RESULT),
    `The Authorization header does not use the Bearer scheme; send the API key as ${accepted}.`,
  )
  // A nested apiKeyAuth brings the request's spend up to its own cost: the outer one spent this.
  const requestCost = cost ?? 1

  function reject(result: AuthFailure): AuthenticationFailure {
    return { ok: false, result, response: toHttpResponse(result, responseOptions) }
  }

  /** A request an outer apiKeyAuth of the same keyward already verified: scopes and cost only. */
  async function extend(prior: AuthenticatedRequest): Promise<Authentication> {
    const extra = Math.max(0, requestCost - prior.cost)
    const options: { scopes?: ScopeRequirement; cost: number } = { cost: extra }
    if (scopes !== undefined) options.scopes = scopes
    const result = await keyward.extend(prior.key, options)
    if (!result.valid) return reject(result)
    prior.cost += extra
    return { ok: true, key: result.key, result, headers: NO_HEADERS }
  }

  const immediate = (keyward as { [IMMEDIATE_VERIFY]?: ImmediateVerify })[IMMEDIATE_VERIFY]

  /** `keyward.verify`, without its promise while it is the bare pipeline (`IMMEDIATE_VERIFY`). */
  function verify(token: string, clientAddress: string | undefined): VerifyResult | Promise<VerifyResult> {
    const options = { scopes, cost, clientAddress }
    return immediate !== undefined && keyward.verify === immediate.bare
      ? immediate.now(token, options)
      : keyward.verify(token, options)
  }

  /** What a verified (or refused) request comes to, once the guard has heard of it. */
  function settled(
    context: object | undefined,
    attempt: GuardAttempt | null,
    result: VerifyResult,
  ): Authentication {
    if (attempt !== null) (guard as BruteForceGuard).settle(attempt, result.valid ? 'VALID' : result.code)
    if (result.valid) {
      if (context !== undefined) {
        markAuthenticated(context, { keyward, key: result.key, cost: requestCost })
      }
      return { ok: true, key: result.key, result, headers: successHeaders(result) }
    }
    return reject(result)
  }

  function authenticateNow(request: HttpRequestView): Authentication | Promise<Authentication> {
    const context = request.context
    if (context !== undefined) {
      const prior = authenticatedAs(context)
      if (prior !== undefined && prior.keyward === keyward) return extend(prior)
    }
    const address = request.clientAddress
    const extraction = extractKey(request, headers, query)
    if (extraction.kind === 'missing' || extraction.kind === 'wrong-scheme') {
      // No key at all is no attempt: not counted, not refused by the guard. Still reported once
      // per request (event and usage count), so monitoring sees it.
      keyward.recordVerification('MISSING', null, null, 0)
      return extraction.kind === 'missing' ? missing : wrongScheme
    }
    // Counted before the lookup (docs/architecture.md, "Brute-force guard").
    const attempt =
      guard === null || address === undefined
        ? null
        : guard.admit(address, extraction.kind === 'key' ? keyIdOf(extraction.token) : null)
    if (attempt !== null && attempt.blockedMs > 0) {
      return reject({ valid: false, code: 'TOO_MANY_FAILED_ATTEMPTS', retryAfterMs: attempt.blockedMs })
    }
    if (extraction.kind !== 'key') {
      // A value that cannot be a key (garbage, duplicated headers): rejected before verify, and
      // reported once like any other outcome.
      keyward.recordVerification('MALFORMED', null, null, 0)
      return settled(context, attempt, MALFORMED_RESULT)
    }
    const result = verify(extraction.token, address)
    if (result instanceof Promise) return result.then((verified) => settled(context, attempt, verified))
    return settled(context, attempt, result)
  }

  return {
    realm,
    authenticateNow,
    async authenticate(request) {
      return authenticateNow(request)
    },
  }
}
