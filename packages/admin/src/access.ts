/**
 * Who may call the admin API, and what they may do. In admin mode a request carries an admin key —
 * a keyward key with scopes of the `keyward:` namespace — checked by `apiKeyAuth` from
 * `@keyward/hono`, the same middleware as any API (docs/architecture.md, "The path of a request");
 * only `keyward:` grants count, so a key granted `*` for your own API is not an admin key. In
 * self-service mode the application's `ownerFrom` names the signed-in owner and every route is
 * confined to that owner. Either way, the result is an `Access` on the context, which the routes
 * read for the audit actor, which keys are visible, and which scopes may be granted.
 */
import type { KeyRecord, VerifiedKey } from '@keyward/core'
import { createScopeCheck, type HttpResponse } from '@keyward/core/adapter'
import { apiKeyAuth } from '@keyward/hono'
import type { Context, MiddlewareHandler } from 'hono'
import type { AdminConfig } from './options.ts'
import { ProblemError } from './problems.ts'

/** The scopes of the admin API. `keyward:*` grants all of them; a key needs one per route. */
export const AdminScope = {
  KEYS_READ: 'keyward:keys:read',
  KEYS_WRITE: 'keyward:keys:write',
  OWNERS_READ: 'keyward:owners:read',
  OWNERS_WRITE: 'keyward:owners:write',
  USAGE_READ: 'keyward:usage:read',
  ALL: 'keyward:*',
} as const

export type AdminScope = (typeof AdminScope)[keyof typeof AdminScope]

/** Scopes of the admin API's own namespace: the only grants the admin API honours. */
export function isAdminScope(scope: string): boolean {
  return scope.startsWith('keyward:')
}

/** A caller of the admin API: an admin key, or an owner signed in to the application. */
export type Access =
  | { readonly mode: 'admin'; readonly actor: string; readonly key: VerifiedKey }
  | { readonly mode: 'self-service'; readonly actor: string; readonly ownerId: string }

/** What the Node mounts put on `c.env`: Node's request and response, and Koa's `ctx` under Koa. */
export interface AdminBindings {
  incoming?: unknown
  outgoing?: unknown
  koa?: unknown
}

/** The Hono environment of the admin app. */
export type AdminEnv = {
  Bindings: AdminBindings
  Variables: { access: Access; apiKey: VerifiedKey }
}

type Guard = MiddlewareHandler<AdminEnv>

function send(c: Context, response: HttpResponse): Response {
  return c.body(JSON.stringify(response.body), response.status as 401, response.headers)
}

/** The same grant check core's `requireScopes` makes, on a plain list of granted scopes. */
function covers(granted: readonly string[], scope: string): boolean {
  return createScopeCheck(scope)({ scopes: granted } as VerifiedKey) === null
}

export interface AccessControl {
  /** The middleware a route runs before validation: authentication, then its scope. */
  guard(scope: AdminScope): Guard[]
  /** Whether the caller may see (and so act on) this key at all. */
  canSee(access: Access, record: KeyRecord): boolean
  /** Whether `ownerId` is the caller's own (always, for an admin). */
  isOwnOwner(access: Access, ownerId: string): boolean
  /** Refuses (403 `forbidden-scope`) scopes the caller may not put on a key. */
  checkGrant(access: Access, scopes: readonly string[]): void
}

export function createAccessControl(config: AdminConfig): AccessControl {
  const grantable = config.grantableScopes

  function refused(access: Access, scopes: readonly string[]): string[] {
    if (access.mode === 'self-service') {
      return scopes.filter((scope) => isAdminScope(scope) || !covers(grantable, scope))
    }
    // An admin grants admin scopes only within its own: keys:write cannot mint a keyward:* key.
    const own = access.key.scopes.filter(isAdminScope)
    return scopes.filter((scope) => isAdminScope(scope) && !covers(own, scope))
  }

  if (config.mode === 'admin') {
    const { realm } = config.auth
    const authenticate = apiKeyAuth(config.keyward, config.auth) as unknown as Guard
    const scopeGuards = new Map<AdminScope, Guard>()
    const scopeGuard = (scope: AdminScope): Guard => {
      const check = createScopeCheck(scope, { realm })
      return function requireAdminScope(c, next) {
        const key = c.get('apiKey')
        const failure = check({ ...key, scopes: key.scopes.filter(isAdminScope) })
        if (failure !== null) return Promise.resolve(send(c, failure.response))
        c.set('access', { mode: 'admin', actor: key.id, key })
        return next()
      }
    }
    return {
      guard(scope) {
        let guard = scopeGuards.get(scope)
        if (guard === undefined) {
          guard = scopeGuard(scope)
          scopeGuards.set(scope, guard)
        }
        return [authenticate, guard]
      },
      canSee: () => true,
      isOwnOwner: () => true,
      checkGrant(access, scopes) {
        const denied = refused(access, scopes)
        if (denied.length > 0) throw forbiddenScopes(denied, 'this admin key does not hold')
      },
    }
  }

  const ownerFrom = config.ownerFrom as NonNullable<AdminConfig['ownerFrom']>
  const trusted = config.trustedOrigins
  const signedIn: Guard = async function signedInOwner(c, next) {
    if (isUnsafe(c.req.method) && isCrossSite(c, trusted)) throw new ProblemError('CROSS_SITE_REQUEST')
    const ownerId = await ownerFrom(c)
    if (ownerId === null || ownerId === undefined || ownerId === '') throw new ProblemError('UNAUTHENTICATED')
    if (typeof ownerId !== 'string' || ownerId.length > 256) {
      throw new TypeError('ownerFrom must return an owner id (a string of 1–256 characters) or null')
    }
    // The audit actor is at most 256 characters: an owner id that long is cut, never refused.
    c.set('access', { mode: 'self-service', actor: `owner:${ownerId}`.slice(0, 256), ownerId })
    await next()
  }
  return {
    guard: () => [signedIn],
    // Keys with admin scopes are the provider's, even under a customer's owner id.
    canSee: (access, record) =>
      access.mode === 'admin' || (record.ownerId === access.ownerId && !record.scopes.some(isAdminScope)),
    isOwnOwner: (access, ownerId) => access.mode === 'admin' || access.ownerId === ownerId,
    checkGrant(access, scopes) {
      const denied = refused(access, scopes)
      if (denied.length > 0) throw forbiddenScopes(denied, 'customers may not grant')
    },
  }
}

function forbiddenScopes(scopes: string[], who: string): ProblemError {
  return new ProblemError('FORBIDDEN_SCOPE', { detail: `Scopes ${who}: ${scopes.join(' ')}.` })
}

function isUnsafe(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS'
}

/**
 * A browser request sent by another site: `Sec-Fetch-Site` says so (every current browser sends
 * it), or, without it, an `Origin` whose host is not this one. Requests from non-browser clients
 * carry neither and pass.
 */
function isCrossSite(c: Context, trusted: ReadonlySet<string>): boolean {
  const origin = c.req.header('origin')
  if (origin !== undefined && trusted.has(origin)) return false
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined) return site !== 'same-origin' && site !== 'none'
  if (origin === undefined) return false
  try {
    return new URL(origin).host !== c.req.header('host')
  } catch {
    return true
  }
}
