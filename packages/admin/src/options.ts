/**
 * The options of `createAdmin` and their validation: every mistake is a `ConfigError` naming the
 * option, thrown when `createAdmin` is called, never per request.
 */
import { ConfigError, type Keyward } from '@keyward/core'
import type { ApiKeyAuthOptions } from '@keyward/hono'
import type { Context } from 'hono'
import { type AdminEnv, isAdminScope } from './access.ts'

/** What `ownerFrom` returns: the signed-in owner's id, or `null` / `undefined` when nobody is. */
export type OwnerFromResult = string | null | undefined

export interface AdminOptions {
  /** The keyward instance whose keys, owners and usage the API manages. */
  keyward: Keyward
  /**
   * Turns on **self-service mode**: returns the id of the owner signed in to your application
   * (from your session, cookie or auth middleware), or `null` when nobody is (→ 401). Every route
   * is then confined to that owner's keys, usage and owner record, and admin keys are not used.
   * `c` is Hono's context: `c.req.raw` is the `Request`; mounted in Express or Koa, `c.env.incoming`
   * is Node's request (Express's `req`) and `c.env.koa` Koa's `ctx`.
   * @default none: admin mode, where requests carry an admin key
   */
  ownerFrom?: (c: Context<AdminEnv>) => OwnerFromResult | Promise<OwnerFromResult>
  /**
   * Self-service only, and required there: the scopes a customer may give their own keys, as
   * granted scopes match (`orders:*` allows `orders:read`, `*` allows any). Scopes of the admin
   * API itself (`keyward:…`) are never grantable in self-service.
   */
  grantableScopes?: readonly string[]
  /**
   * Self-service only: origins (`https://app.example.com`) besides the API's own from which a
   * browser may send changes. Changes from any other site are refused (403), since a session
   * cookie would otherwise let another site act for the signed-in customer.
   * @default none
   */
  trustedOrigins?: readonly string[]
  /**
   * Admin mode only: options of the `apiKeyAuth` that checks admin keys — `headers`, `realm`
   * (default `'keyward-admin'`), `bruteForce`, `clientAddress` (see `@keyward/hono`).
   */
  auth?: Pick<ApiKeyAuthOptions, 'headers' | 'realm' | 'bruteForce' | 'clientAddress'>
  /** Serve the web dashboard at the root of the mount. @default true */
  dashboard?: boolean
  /** The OpenAPI document's `info.title`, `info.version` and `servers`. */
  openapi?: {
    /** @default 'keyward admin API' (or 'keyward self-service API') */
    title?: string
    /** @default '1' */
    version?: string
    /** @default none: paths are relative to where the API is mounted */
    servers?: { url: string; description?: string }[]
  }
}

/** The options after validation, with their defaults. */
export interface AdminConfig {
  keyward: Keyward
  mode: 'admin' | 'self-service'
  ownerFrom: NonNullable<AdminOptions['ownerFrom']> | null
  grantableScopes: readonly string[]
  trustedOrigins: ReadonlySet<string>
  auth: NonNullable<AdminOptions['auth']> & { realm: string }
  dashboard: boolean
  openapi: { title: string; version: string; servers: { url: string; description?: string }[] }
}

const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/
const KNOWN: ReadonlySet<string> = new Set([
  'keyward',
  'ownerFrom',
  'grantableScopes',
  'trustedOrigins',
  'auth',
  'dashboard',
  'openapi',
])

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function stringList(
  option: string,
  value: unknown,
  check: (item: string) => boolean,
  what: string,
): string[] {
  if (!Array.isArray(value)) throw new ConfigError(option, `must be an array of ${what}`)
  value.forEach((item, index) => {
    if (typeof item !== 'string' || !check(item)) {
      throw new ConfigError(`${option}[${index}]`, `must be ${what.replace(/s$/, '')}`)
    }
  })
  return [...value]
}

function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value
  } catch {
    return false
  }
}

export function resolveAdminOptions(options: AdminOptions): AdminConfig {
  if (!isObject(options)) throw new ConfigError('options', 'must be an object: createAdmin({ keyward })')
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new ConfigError(name, `is not an option; known: ${[...KNOWN].join(', ')}`)
  }
  const {
    keyward,
    ownerFrom,
    grantableScopes,
    trustedOrigins,
    auth = {},
    dashboard = true,
    openapi = {},
  } = options
  if (!isObject(keyward) || !isObject(keyward.keys) || typeof keyward.verify !== 'function') {
    throw new ConfigError('keyward', 'must be a keyward instance from createKeyward()')
  }
  if (ownerFrom !== undefined && typeof ownerFrom !== 'function') {
    throw new ConfigError('ownerFrom', 'must be a function (c) => ownerId | null')
  }
  const selfService = ownerFrom !== undefined
  if (selfService && grantableScopes === undefined) {
    throw new ConfigError(
      'grantableScopes',
      "is required with ownerFrom: the scopes customers may give their keys, e.g. ['orders:read', 'orders:write']",
    )
  }
  if (!selfService && (grantableScopes !== undefined || trustedOrigins !== undefined)) {
    const option = grantableScopes !== undefined ? 'grantableScopes' : 'trustedOrigins'
    throw new ConfigError(option, 'applies to self-service mode only: give ownerFrom too')
  }
  const scopes =
    grantableScopes === undefined
      ? []
      : stringList('grantableScopes', grantableScopes, (scope) => SCOPE_PATTERN.test(scope), 'scopes')
  const adminScope = scopes.find(isAdminScope)
  if (adminScope !== undefined) {
    throw new ConfigError('grantableScopes', `must not contain admin scopes such as ${adminScope}`)
  }
  const origins =
    trustedOrigins === undefined
      ? []
      : stringList('trustedOrigins', trustedOrigins, isOrigin, 'origins such as https://app.example.com')
  if (selfService && Object.keys(auth).length > 0) {
    throw new ConfigError('auth', 'applies to admin mode only (self-service uses ownerFrom)')
  }
  if (!isObject(auth)) throw new ConfigError('auth', 'must be an object')
  if (typeof dashboard !== 'boolean') throw new ConfigError('dashboard', 'must be a boolean')
  if (!isObject(openapi)) throw new ConfigError('openapi', 'must be an object: { title, version, servers }')
  return {
    keyward,
    mode: selfService ? 'self-service' : 'admin',
    ownerFrom: ownerFrom ?? null,
    grantableScopes: scopes,
    trustedOrigins: new Set(origins),
    auth: { ...auth, realm: auth.realm ?? 'keyward-admin' },
    dashboard,
    openapi: {
      title: openapi.title ?? (selfService ? 'keyward self-service API' : 'keyward admin API'),
      version: openapi.version ?? '1',
      servers: openapi.servers ?? [],
    },
  }
}
