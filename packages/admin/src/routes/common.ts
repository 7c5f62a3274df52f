/**
 * What every route module shares: the app type, what a route needs (config, access control), the
 * problem responses each route documents, and the lookups that confine a caller to what it may
 * see — an invisible key answers exactly like an unknown one.
 */
import type { OpenAPIHono, z } from '@hono/zod-openapi'
import type { KeyRecord } from '@keyward/core'
import type { Access, AccessControl, AdminEnv, AdminScope, Guard } from '../access.ts'
import type { AdminConfig } from '../options.ts'
import { ProblemError } from '../problems.ts'
import { KEY_ID_PATTERN, Problem } from '../schemas.ts'
import type { ProblemJson } from '../wire.ts'

export type AdminApp = OpenAPIHono<AdminEnv>

export interface RouteContext {
  config: AdminConfig
  access: AccessControl
}

export interface ProblemResponse {
  description: string
  content: { 'application/problem+json': { schema: z.ZodType<ProblemJson> } }
}

export function problem(description: string): ProblemResponse {
  return { description, content: { 'application/problem+json': { schema: Problem } } }
}

/** The refusals any route may answer with, besides its own. */
export const COMMON_PROBLEMS: {
  401: ProblemResponse
  403: ProblemResponse
  429: ProblemResponse
  503: ProblemResponse
} = {
  401: problem('No admin key, or an invalid one (self-service: nobody signed in).'),
  403: problem('The admin key lacks the scope, or the change is not allowed for this caller.'),
  429: problem('The admin key is rate limited, or its address made too many failed attempts.'),
  503: problem('The key store cannot be reached.'),
}

export const INVALID: ProblemResponse = problem('Invalid fields; `errors` lists every one.')
export const KEY_NOT_FOUND: ProblemResponse = problem('No key with this id (or not one the caller may see).')

/**
 * How a route is guarded: its middleware (authentication and scope) and, in admin mode, the
 * OpenAPI `security` naming the scope its admin key needs. Self-service routes document none: the
 * application's own sign-in applies.
 */
export function guarded(
  context: RouteContext,
  scope: AdminScope,
): { middleware: Guard[]; security?: { adminKey: string[] }[] } {
  const middleware = context.access.guard(scope)
  return context.config.mode === 'admin' ? { middleware, security: [{ adminKey: [scope] }] } : { middleware }
}

/** The key with this id, if the caller may see it; else 404, the same as for an unknown id. */
export async function visibleKey(context: RouteContext, access: Access, id: string): Promise<KeyRecord> {
  const record = KEY_ID_PATTERN.test(id) ? await context.config.keyward.keys.get(id) : null
  if (record === null || !context.access.canSee(access, record)) throw new ProblemError('KEY_NOT_FOUND')
  return record
}

/** The lifecycle audit of a change: the admin key id (or `owner:<id>`) and the given reason. */
export function audit(access: Access, reason?: string): { actor: string; reason?: string } {
  return reason === undefined ? { actor: access.actor } : { actor: access.actor, reason }
}
