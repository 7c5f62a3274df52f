/**
 * Self-service mode: the application's `ownerFrom` names the owner signed in to it, and every
 * route is confined to that owner (docs/admin.md, "Self-service mode"). Another owner's key, and
 * keys with admin scopes even under the customer's own id, are treated as not existing; scopes
 * must be covered by `grantableScopes`. Since the session is usually a cookie, changes sent by
 * another site are refused before anything else.
 */
import type { Context } from 'hono'
import { type AccessControl, covers, type Guard, isAdminScope } from './access.ts'
import type { AdminConfig } from './options.ts'
import { ProblemError } from './problems.ts'

export function selfServiceAccess(config: AdminConfig): AccessControl {
  const ownerFrom = config.ownerFrom as NonNullable<AdminConfig['ownerFrom']>
  const { grantableScopes, trustedOrigins } = config

  const signedIn: Guard = async function signedInOwner(c, next) {
    if (isUnsafe(c.req.method) && isCrossSite(c, trustedOrigins)) throw new ProblemError('CROSS_SITE_REQUEST')
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
    canSee: (access, record) =>
      access.mode === 'self-service' &&
      record.ownerId === access.ownerId &&
      !record.scopes.some(isAdminScope),
    isOwnOwner: (access, ownerId) => access.mode === 'self-service' && access.ownerId === ownerId,
    checkGrant(_access, scopes) {
      const denied = scopes.filter((scope) => isAdminScope(scope) || !covers(grantableScopes, scope))
      if (denied.length > 0) {
        throw new ProblemError('FORBIDDEN_SCOPE', {
          detail: `Scopes customers may not grant: ${denied.join(' ')}.`,
        })
      }
    },
  }
}

function isUnsafe(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS'
}

/**
 * A browser request sent by another site: `Sec-Fetch-Site` says so (every current browser sends
 * it), or, without it, an `Origin` whose host is not this one. Requests from non-browser clients
 * carry neither and pass; so do those from a trusted origin.
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
