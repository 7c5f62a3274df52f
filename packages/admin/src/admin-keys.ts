/**
 * Admin mode: a request carries an admin key — a keyward key with scopes of the `keyward:`
 * namespace — verified by `apiKeyAuth` from `@keyward/hono`, the same middleware as any API
 * (docs/architecture.md, "The path of a request"), so its rejections are the standard ones. Only
 * `keyward:` grants count: a key granted `*` for your own API is not an admin key. An admin sees
 * every key and owner, and grants admin scopes only within its own.
 */
import { createScopeCheck } from '@keyward/core/adapter'
import { apiKeyAuth } from '@keyward/hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { type AccessControl, type AdminScope, covers, type Guard, isAdminScope } from './access.ts'
import type { AdminConfig } from './options.ts'
import { ProblemError } from './problems.ts'

export function adminKeyAccess(config: AdminConfig): AccessControl {
  const { realm } = config.auth
  const authenticate = apiKeyAuth(config.keyward, config.auth) as unknown as Guard
  const scopeGuards = new Map<AdminScope, Guard>()

  function scopeGuard(scope: AdminScope): Guard {
    const check = createScopeCheck(scope, { realm })
    return function requireAdminScope(c, next) {
      const key = c.get('apiKey')
      const failure = check({ ...key, scopes: key.scopes.filter(isAdminScope) })
      if (failure !== null) {
        const { status, headers, body } = failure.response
        return Promise.resolve(c.body(JSON.stringify(body), status as ContentfulStatusCode, headers))
      }
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
      if (access.mode !== 'admin') return
      // keyward:keys:write cannot mint, patch in or rotate out a keyward:* key.
      const own = access.key.scopes.filter(isAdminScope)
      const denied = scopes.filter((scope) => isAdminScope(scope) && !covers(own, scope))
      if (denied.length > 0) {
        throw new ProblemError('FORBIDDEN_SCOPE', {
          detail: `Scopes this admin key does not hold: ${denied.join(' ')}.`,
        })
      }
    },
  }
}
