/**
 * Scopes: granted scopes are strings like `orders:read`; a granted `orders:*` or `*` matches by
 * segment (`orders:*` covers `orders:read` and `orders:lines:write`, not `orders`). A requirement
 * is a scope, an array (all of), or `{ anyOf }` / `{ allOf }`, nested as deep as needed.
 */
import { InvalidArgumentError } from './errors.ts'

export type ScopeRequirement =
  | string
  | readonly ScopeRequirement[]
  | { readonly anyOf: readonly ScopeRequirement[] }
  | { readonly allOf: readonly ScopeRequirement[] }

/** RFC 6750 scope-token characters: printable ASCII except space, `"` and `\`. */
const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/

export function isValidScope(scope: unknown): scope is string {
  return typeof scope === 'string' && SCOPE_PATTERN.test(scope)
}

/** Validates a list of granted scopes (for `keys.create` / `keys.update`). */
export function checkScopes(field: string, scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw new InvalidArgumentError(field, 'must be an array of scope strings')
  if (scopes.length > 256) throw new InvalidArgumentError(field, 'at most 256 scopes')
  for (const scope of scopes) {
    if (!isValidScope(scope)) {
      throw new InvalidArgumentError(
        field,
        `${JSON.stringify(scope)} is not a scope (1–128 printable ASCII characters, no space, quote or backslash)`,
      )
    }
  }
  return [...new Set(scopes as string[])]
}

/** Validates a requirement once (at middleware construction); throws `InvalidArgumentError`. */
export function checkRequirement(field: string, requirement: unknown): ScopeRequirement {
  if (typeof requirement === 'string') {
    if (!isValidScope(requirement))
      throw new InvalidArgumentError(field, `${JSON.stringify(requirement)} is not a scope`)
    return requirement
  }
  if (Array.isArray(requirement)) {
    requirement.forEach((inner, index) => {
      checkRequirement(`${field}[${index}]`, inner)
    })
    return requirement
  }
  if (requirement !== null && typeof requirement === 'object') {
    const keys = Object.keys(requirement)
    const kind = keys[0]
    if (keys.length === 1 && (kind === 'anyOf' || kind === 'allOf')) {
      const list = (requirement as Record<string, unknown>)[kind]
      if (!Array.isArray(list) || list.length === 0) {
        throw new InvalidArgumentError(`${field}.${kind}`, 'must be a non-empty array')
      }
      list.forEach((inner, index) => {
        checkRequirement(`${field}.${kind}[${index}]`, inner)
      })
      return requirement as ScopeRequirement
    }
  }
  throw new InvalidArgumentError(field, 'must be a scope, an array of requirements, { anyOf } or { allOf }')
}

/** Does the granted scope `granted` cover the required scope `required`? */
export function scopeCovers(granted: string, required: string): boolean {
  if (granted === required || granted === '*') return true
  if (!granted.endsWith(':*')) return false
  // `orders:*` covers every scope with the segment prefix `orders:`.
  const stem = granted.slice(0, -1)
  return required.length > stem.length && required.startsWith(stem)
}

function hasScope(granted: readonly string[], required: string): boolean {
  for (const scope of granted) if (scopeCovers(scope, required)) return true
  return false
}

/** Does a key with the `granted` scopes satisfy `requirement`? */
export function satisfies(granted: readonly string[], requirement: ScopeRequirement): boolean {
  if (typeof requirement === 'string') return hasScope(granted, requirement)
  if (Array.isArray(requirement)) return requirement.every((inner) => satisfies(granted, inner))
  if ('anyOf' in requirement) return requirement.anyOf.some((inner) => satisfies(granted, inner))
  return (requirement as { allOf: readonly ScopeRequirement[] }).allOf.every((inner) =>
    satisfies(granted, inner),
  )
}

/**
 * The scopes to name in `WWW-Authenticate: … scope="…"` (RFC 6750 §3): the required scopes the
 * key lacks; for an `anyOf`, all alternatives (any one would do).
 */
export function missingScopes(granted: readonly string[], requirement: ScopeRequirement): string[] {
  const out = new Set<string>()
  const walk = (node: ScopeRequirement): void => {
    if (satisfies(granted, node)) return
    if (typeof node === 'string') out.add(node)
    else if (Array.isArray(node)) node.forEach(walk)
    else if ('anyOf' in node) node.anyOf.forEach(walk)
    else (node as { allOf: readonly ScopeRequirement[] }).allOf.forEach(walk)
  }
  walk(requirement)
  return [...out]
}
