/**
 * The dashboard's client of the admin API. The API lives where the dashboard is served (the root
 * of the mount), so every path is relative to the page's own path. In admin mode the admin key is
 * kept in sessionStorage (gone when the tab closes) and sent as a Bearer header — never in a URL.
 * In self-service mode the application's own session (its cookie) authenticates the requests.
 */
import type { ProblemJson } from '../../src/wire.ts'

const STORAGE_KEY = 'keyward-admin-key'

export const mode: 'admin' | 'self-service' =
  document.querySelector('meta[name="keyward-mode"]')?.getAttribute('content') === 'self-service'
    ? 'self-service'
    : 'admin'

const base = location.pathname.replace(/\/+$/, '')

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemJson | null,
  ) {
    super(problem === null ? `HTTP ${status}` : problem.detail)
  }

  /** One line for the user: the problem's detail, and each invalid field. */
  describe(): string {
    if (this.problem === null) return this.message
    const fields = (this.problem.errors ?? []).map((error) => `${error.field || 'body'}: ${error.message}`)
    return [this.problem.title, fields.length > 0 ? fields.join('; ') : this.problem.detail].join(' — ')
  }
}

export const session = {
  key(): string | null {
    return sessionStorage.getItem(STORAGE_KEY)
  },
  signIn(key: string): void {
    sessionStorage.setItem(STORAGE_KEY, key)
  },
  signOut(): void {
    sessionStorage.removeItem(STORAGE_KEY)
  },
  /** The public id of the admin key: the third part of `<prefix>_<env>_<id>_<secret>`. */
  keyId(): string | null {
    return session.key()?.split('_')[2] ?? null
  },
}

/** Called when the API answers 401: the key (or the session) no longer works. */
let onUnauthorized: (error: ApiError) => void = () => {}
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler
}

export async function api<T>(method: string, path: string, body?: unknown, key = session.key()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (mode === 'admin' && key !== null) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' }
  if (body !== undefined) init.body = JSON.stringify(body)
  const response = await fetch(`${base}${path}`, init)
  const text = await response.text()
  const json: unknown = text === '' ? null : JSON.parse(text)
  if (!response.ok) {
    const error = new ApiError(response.status, json as ProblemJson | null)
    // Only for the stored key: a key being tried at sign-in reports its own error.
    if (response.status === 401 && key === session.key()) onUnauthorized(error)
    throw error
  }
  return json as T
}

export const path = {
  keys: (query: Record<string, string | undefined>) => `/keys${search(query)}`,
  key: (id: string) => `/keys/${encodeURIComponent(id)}`,
  owner: (id: string) => `/owners/${encodeURIComponent(id)}`,
}

export function search(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(name, value)
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}
