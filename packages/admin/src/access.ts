/**
 * Who may call the admin API and what they may do (docs/admin.md, "Admin keys and scopes" and
 * "Self-service mode"). A route's guard puts an `Access` on the context — an admin key, or the
 * owner signed in to the application — and the routes ask the `AccessControl` which keys that
 * caller may see, whose owner records, and which scopes it may grant. `admin-keys.ts` and
 * `self-service.ts` are the two implementations.
 */
import type { KeyRecord, VerifiedKey } from '@keyward/core'
import { createScopeCheck } from '@keyward/core/adapter'
import type { MiddlewareHandler } from 'hono'

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

export type Guard = MiddlewareHandler<AdminEnv>

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

/** The same grant check core's `requireScopes` makes, on a plain list of granted scopes. */
export function covers(granted: readonly string[], scope: string): boolean {
  return createScopeCheck(scope)({ scopes: granted } as VerifiedKey) === null
}
