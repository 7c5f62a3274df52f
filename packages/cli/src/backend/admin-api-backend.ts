/**
 * The admin API backend: the same commands over HTTP, against a running `@keyward/admin`
 * (`/keys`, `/keys/{id}`, `/keys/{id}/revoke`, `/keys/{id}/rotate`, `/owners/{id}`). The admin key
 * travels in `Authorization: Bearer` and never in a URL; errors arrive as RFC 9457 problem+json
 * and become one line with the exit code their status calls for.
 */
import { CliError, ExitCode, usageError } from '../exit-codes.ts'
import type {
  Backend,
  CreatedKeyView,
  KeyPage,
  KeyView,
  OwnerView,
  RotatedKeyView,
  UsageView,
} from './backend.ts'

export interface AdminApiBackendOptions {
  url: string
  /** `KEYWARD_ADMIN_KEY`: a keyward key with `keyward:*` scopes. */
  adminKey: string | undefined
  /** Longest wait for each request, in ms. */
  timeoutMs: number
  /** Where a warning goes (plain http to another host). */
  warn(message: string): void
}

interface Problem {
  title?: unknown
  detail?: unknown
  code?: unknown
  /** `validation-failed`: every invalid field. */
  errors?: unknown
}

/** A response with a failed status, and the problem's `code` when it had one. */
class ApiFailure extends CliError {
  readonly status: number
  readonly code: string | undefined

  constructor(message: string, status: number, code: string | undefined) {
    super(message, exitCodeFor(status))
    this.status = status
    this.code = code
  }
}

/** `ownerId is required; rateLimit.points Too small…` from a `validation-failed` problem's `errors`. */
function listFieldErrors(errors: unknown): string {
  if (!Array.isArray(errors)) return ''
  const parts = errors
    .map((error: { field?: unknown; message?: unknown }) =>
      typeof error?.field === 'string' && typeof error.message === 'string'
        ? `${error.field} ${error.message}`
        : null,
    )
    .filter((part) => part !== null)
  return parts.length === 0 ? '' : `: ${parts.join('; ')}`
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The exit code a failed status calls for: the caller's mistake, the backend's absence, or a refusal. */
function exitCodeFor(status: number): ExitCode {
  if (status === 400 || status === 422) return ExitCode.USAGE
  if (status === 502 || status === 503 || status === 504) return ExitCode.UNREACHABLE
  return ExitCode.FAILED
}

export function openAdminApiBackend(options: AdminApiBackendOptions): Backend {
  let base: URL
  try {
    base = new URL(options.url)
  } catch {
    throw usageError(
      `--api-url ${JSON.stringify(options.url)} is not a URL (e.g. https://api.example.com/admin)`,
    )
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw usageError(`--api-url must be an http:// or https:// URL (got ${base.protocol})`)
  }
  if (base.username !== '' || base.password !== '' || base.search !== '') {
    throw usageError(
      '--api-url must not carry credentials or a query: the admin key goes in KEYWARD_ADMIN_KEY',
    )
  }
  const adminKey = options.adminKey
  if (adminKey === undefined || adminKey === '') {
    throw usageError(
      'KEYWARD_ADMIN_KEY is not set: the admin API needs an admin key (a keyward key with keyward:* scopes)',
    )
  }
  if (base.protocol === 'http:' && !LOOPBACK.has(base.hostname)) {
    options.warn(`warning: sending the admin key to ${base.host} over plain http; use https`)
  }
  const root = base.toString().replace(/\/+$/, '')
  const location = root

  async function request<T>(
    method: string,
    path: string,
    init: { query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<{ status: number; body: T | null }> {
    const url = new URL(root + path)
    for (const [name, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${adminKey}`,
      accept: 'application/json',
    }
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        body: init.body === undefined ? null : JSON.stringify(init.body),
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'error',
      })
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs} ms`
          : describeFetchFailure(error)
      throw new CliError(`cannot reach the admin API at ${location}: ${reason}`, ExitCode.UNREACHABLE, {
        cause: error,
      })
    }
    const text = await response.text()
    let body: unknown = null
    if (text !== '') {
      try {
        body = JSON.parse(text)
      } catch {
        body = null
      }
    }
    if (!response.ok) throw failure(response.status, body)
    return { status: response.status, body: body as T }
  }

  /** The one-line error for a failed response. */
  function failure(status: number, body: unknown): ApiFailure {
    const problem: Problem = body !== null && typeof body === 'object' ? (body as Problem) : {}
    const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`
    const fields = listFieldErrors(problem.errors)
    const detail = fields !== '' ? fields : typeof problem.detail === 'string' ? `: ${problem.detail}` : ''
    const code = typeof problem.code === 'string' ? problem.code : undefined
    // Hints only where the answer alone leaves the next step unclear.
    const hint =
      status === 401
        ? ' (is KEYWARD_ADMIN_KEY a valid admin key?)'
        : status === 403 && detail === ''
          ? ' (the admin key lacks a keyward: scope this needs)'
          : status === 404 && (code === undefined || code === 'ROUTE_NOT_FOUND')
            ? ' (is --api-url where the admin API is mounted?)'
            : ''
    return new ApiFailure(`admin API ${status} ${title}${detail}${hint}`, status, code)
  }

  async function send<T>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | number | undefined>,
  ): Promise<T> {
    const answer = await request<T>(method, path, {
      ...(body === undefined ? {} : { body }),
      ...(query === undefined ? {} : { query }),
    })
    if (answer.body === null)
      throw new CliError(`admin API answered ${method} ${path} without a JSON body`, ExitCode.FAILED)
    return answer.body
  }

  /** GET that answers `null` for an unknown id (an answer, not a failure); a wrong route still fails. */
  async function find<T>(path: string, notFound: string): Promise<T | null> {
    try {
      return await send<T>('GET', path)
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404 && error.code === notFound) return null
      throw error
    }
  }

  const keyPath = (id: string) => `/keys/${encodeURIComponent(id)}`
  const ownerPath = (id: string) => `/owners/${encodeURIComponent(id)}`
  const auditBody = (reason: string | undefined) => (reason === undefined ? {} : { reason })

  return {
    location,
    createKey: (input, audit) =>
      send<CreatedKeyView>('POST', '/keys', { ...input, ...auditBody(audit.reason) }),
    async listKeys(query) {
      const answer = await request<KeyPage>('GET', '/keys', { query: { ...query } })
      if (answer.body === null)
        throw new CliError('admin API answered GET /keys without a JSON body', ExitCode.FAILED)
      return answer.body
    },
    getKey: (id) => find<KeyView>(keyPath(id), 'KEY_NOT_FOUND'),
    revokeKey: (id, audit) => send<KeyView>('POST', `${keyPath(id)}/revoke`, auditBody(audit.reason)),
    rotateKey: (id, rotate) =>
      send<RotatedKeyView>('POST', `${keyPath(id)}/rotate`, {
        gracePeriodMs: rotate.gracePeriodMs,
        ...(rotate.expiresAt === undefined ? {} : { expiresAt: rotate.expiresAt }),
        ...auditBody(rotate.reason),
      }),
    // DELETE carries no body: its reason goes in the query.
    deleteKey: (id, audit) => send<KeyView>('DELETE', keyPath(id), undefined, { reason: audit.reason }),
    getOwner: (id) => find<OwnerView>(ownerPath(id), 'OWNER_NOT_FOUND'),
    setOwner: (id, input, audit) =>
      send<OwnerView>('PUT', ownerPath(id), { ...input, ...auditBody(audit.reason) }),
    deleteOwner: (id, audit) => send<OwnerView>('DELETE', ownerPath(id), undefined, { reason: audit.reason }),
    async usage(target, range) {
      const path = 'keyId' in target ? `${keyPath(target.keyId)}/usage` : `${ownerPath(target.ownerId)}/usage`
      const query = {
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        granularity: range.granularity,
      }
      const answer = await request<UsageView>('GET', path, { query })
      if (answer.body === null)
        throw new CliError(`admin API answered GET ${path} without a JSON body`, ExitCode.FAILED)
      return answer.body
    },
    async close() {},
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS error). */
function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}
