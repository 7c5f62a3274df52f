/**
 * Shared set-up for the admin API suites: an admin app over a fresh keyward (on the store under
 * test), admin keys with chosen scopes, and `call()` — one request through the app's `fetch`, its
 * body parsed — so every test reads as method, path, key and expected answer.
 */
import { type Admin, type AdminOptions, createAdmin, type ProblemJson } from '@keyward/admin'
import type { Keyward, KeywardOptions } from '@keyward/core'
import { expect } from 'vitest'
import type { StoreUnderTest } from '../security/stores.ts'

export interface Answer<T = unknown> {
  status: number
  headers: Headers
  /** The parsed JSON body (`null` when empty), as the caller says it is. */
  body: T
  text: string
}

export interface CallOptions {
  key?: string | undefined
  body?: unknown
  /** A raw body, sent as it is. */
  raw?: string
  headers?: Record<string, string>
}

export interface Harness {
  keyward: Keyward
  admin: Admin
  /** A new admin key (the plaintext) with these scopes, owned by `ops`. */
  adminKey(scopes: string[]): Promise<string>
  call<T = unknown>(method: string, path: string, options?: CallOptions): Promise<Answer<T>>
}

export async function harness(
  store: StoreUnderTest,
  options: Partial<AdminOptions> = {},
  keywardOptions: KeywardOptions = {},
): Promise<Harness> {
  const keyward = await store.fresh(keywardOptions)
  const admin = createAdmin({ keyward, ...options })
  return {
    keyward,
    admin,
    async adminKey(scopes) {
      return (await keyward.keys.create({ ownerId: 'ops', name: 'admin', scopes })).key
    },
    call: <T>(method: string, path: string, callOptions: CallOptions = {}) =>
      call<T>(admin, method, path, callOptions),
  }
}

export async function call<T = unknown>(
  admin: Admin,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined = options.raw
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const init: RequestInit = { method, headers }
  if (body !== undefined) init.body = body
  const response = await admin.fetch(new Request(`http://admin.test${path}`, init))
  const text = await response.text()
  let parsed: unknown = null
  if (text !== '' && /json/.test(response.headers.get('content-type') ?? '')) parsed = JSON.parse(text)
  return { status: response.status, headers: response.headers, body: parsed as T, text }
}

/** Asserts an RFC 9457 problem with this status and type slug; returns its body. */
export function expectProblem(answer: Answer, status: number, slug: string): ProblemJson {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.headers.get('content-type')).toBe('application/problem+json')
  expect(answer.headers.get('cache-control')).toBe('no-store')
  const body = answer.body as ProblemJson
  expect(body).toMatchObject({ type: `https://keyward.dev/problems/${slug}`, status })
  expect(typeof body.title).toBe('string')
  expect(typeof body.detail).toBe('string')
  expect(typeof body.code).toBe('string')
  return body
}

/** Asserts a 400 `validation-failed` naming exactly these fields (in any order). */
export function expectInvalid(answer: Answer, fields: [string, string][]): void {
  const body = expectProblem(answer, 400, 'validation-failed')
  expect(body.code).toBe('VALIDATION_FAILED')
  const errors = body.errors ?? []
  expect(errors.map((error) => [error.in, error.field]).sort()).toEqual([...fields].sort())
  for (const error of errors) expect(error.message.length).toBeGreaterThan(0)
}

/** A well-formed key id no key has. */
export const UNKNOWN_ID = 'Zz0000000000'
