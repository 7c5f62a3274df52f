/**
 * Every way the admin API refuses a request, in one table: status, problem type slug, title and
 * default detail per code, rendered as RFC 9457 `application/problem+json` with the same base URI,
 * content type and `Cache-Control: no-store` as the middleware's rejections (docs/architecture.md,
 * "Outcomes"). Handlers throw a `ProblemError`; the app's error handler renders it. Rejections of
 * the admin key itself (401/403/429/503) are the middleware's own responses, not these.
 */
import { PROBLEM_BASE_URI, PROBLEM_CONTENT_TYPE } from '@keyward/core/adapter'

export const AdminProblemCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN_SCOPE: 'FORBIDDEN_SCOPE',
  SELF_SERVICE_FORBIDDEN: 'SELF_SERVICE_FORBIDDEN',
  CROSS_SITE_REQUEST: 'CROSS_SITE_REQUEST',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  OWNER_NOT_FOUND: 'OWNER_NOT_FOUND',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  KEY_CONFLICT: 'KEY_CONFLICT',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const

export type AdminProblemCode = (typeof AdminProblemCode)[keyof typeof AdminProblemCode]

interface ProblemKind {
  status: 400 | 401 | 403 | 404 | 409 | 415 | 500 | 503
  slug: string
  title: string
  detail: string
}

/** What each code means over HTTP; the `type` URI is `https://keyward.dev/problems/<slug>`. */
export const ADMIN_PROBLEMS: Readonly<Record<AdminProblemCode, ProblemKind>> = Object.freeze({
  VALIDATION_FAILED: {
    status: 400,
    slug: 'validation-failed',
    title: 'Invalid request',
    detail: 'Some fields of the request are invalid; `errors` lists each one.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    slug: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: 'Send the request body as application/json.',
  },
  UNAUTHENTICATED: {
    status: 401,
    slug: 'unauthenticated',
    title: 'Sign-in required',
    detail: 'This request needs a signed-in account.',
  },
  FORBIDDEN_SCOPE: {
    status: 403,
    slug: 'forbidden-scope',
    title: 'Scope not grantable',
    detail: 'The request would grant scopes the caller may not grant.',
  },
  SELF_SERVICE_FORBIDDEN: {
    status: 403,
    slug: 'self-service-forbidden',
    title: 'Not available in self-service',
    detail: 'Owner records, limits and credits are managed by the provider.',
  },
  CROSS_SITE_REQUEST: {
    status: 403,
    slug: 'cross-site-request',
    title: 'Cross-site request refused',
    detail: 'Changes are only accepted from pages of this site.',
  },
  KEY_NOT_FOUND: {
    status: 404,
    slug: 'key-not-found',
    title: 'Key not found',
    detail: 'No key has this id.',
  },
  OWNER_NOT_FOUND: {
    status: 404,
    slug: 'owner-not-found',
    title: 'Owner not found',
    detail: 'No owner record has this id.',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    slug: 'route-not-found',
    title: 'Not found',
    detail: 'The admin API has no such route; see openapi.json.',
  },
  KEY_CONFLICT: {
    status: 409,
    slug: 'key-conflict',
    title: 'Key state conflict',
    detail: 'The key cannot be changed this way in its current state.',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    slug: 'store-unavailable',
    title: 'Store unavailable',
    detail: 'The key store cannot be reached right now; retry shortly.',
  },
  INTERNAL: {
    status: 500,
    slug: 'internal-error',
    title: 'Internal error',
    detail: 'The admin API failed unexpectedly.',
  },
})

/** Where an invalid field was: the JSON body, the query string or the path. */
export type FieldLocation = 'body' | 'query' | 'path'

/** One invalid field of a `validation-failed` problem. */
export interface FieldProblem {
  in: FieldLocation
  /** Path of the field as keyward names it: `scopes[0]`, `rateLimit[1].points`, `limit`. */
  field: string
  message: string
}

/** An RFC 9457 body: the standard members, `code`, and `errors` for `validation-failed`. */
export interface AdminProblemBody {
  type: string
  title: string
  status: number
  detail: string
  code: AdminProblemCode
  errors?: FieldProblem[]
}

/** A refusal a handler throws; the app's error handler answers it as problem+json. */
export class ProblemError extends Error {
  readonly body: AdminProblemBody
  readonly headers: Readonly<Record<string, string>>

  constructor(
    code: AdminProblemCode,
    options: { detail?: string; errors?: FieldProblem[]; headers?: Record<string, string> } = {},
  ) {
    const kind = ADMIN_PROBLEMS[code]
    const detail = options.detail ?? kind.detail
    super(detail)
    this.name = 'ProblemError'
    this.body = { type: PROBLEM_BASE_URI + kind.slug, title: kind.title, status: kind.status, detail, code }
    if (options.errors !== undefined) this.body.errors = options.errors
    this.headers = options.headers ?? {}
  }

  get status(): number {
    return this.body.status
  }
}

/** The response for a problem: problem+json, never cached (bodies may name key ids). */
export function problemResponse(problem: ProblemError): Response {
  return new Response(JSON.stringify(problem.body), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...problem.headers },
  })
}

/** `validation-failed` with every invalid field; the detail counts them. */
export function validationProblem(errors: FieldProblem[]): ProblemError {
  const detail =
    errors.length === 1
      ? `The field \`${errors[0]?.field}\` is invalid: ${errors[0]?.message}.`
      : `${errors.length} fields of the request are invalid; \`errors\` lists each one.`
  return new ProblemError('VALIDATION_FAILED', { detail, errors })
}
