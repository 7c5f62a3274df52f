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

/** Deepest nesting and most scopes a requirement may have: enough for any route, bounded for any input. */
export const MAX_REQUIREMENT_DEPTH = 16
export const MAX_REQUIREMENT_NODES = 256

/**
 * What is wrong with a requirement, or `null` when it is valid. Walks it without recursion and
 * within `MAX_REQUIREMENT_DEPTH` / `MAX_REQUIREMENT_NODES`, so no input can throw or run long.
 */
export function requirementProblem(
  field: string,
  requirement: unknown,
): { field: string; message: string } | null {
  const stack: [string, unknown, number][] = [[field, requirement, 0]]
  let nodes = 0
  while (stack.length > 0) {
    const [at, node, depth] = stack.pop() as [string, unknown, number]
    if (++nodes > MAX_REQUIREMENT_NODES)
      return { field, message: `has more than ${MAX_REQUIREMENT_NODES} parts` }
    if (depth > MAX_REQUIREMENT_DEPTH)
      return { field: at, message: `nests deeper than ${MAX_REQUIREMENT_DEPTH} levels` }
    if (typeof node === 'string') {
      if (!isValidScope(node))
        return { field: at, message: `${JSON.stringify(node).slice(0, 140)} is not a scope` }
      continue
    }
    if (Array.isArray(node)) {
      if (node.length > MAX_REQUIREMENT_NODES)
        return { field: at, message: `has more than ${MAX_REQUIREMENT_NODES} parts` }
      for (let index = node.length - 1; index >= 0; index--)
        stack.push([`${at}[${index}]`, node[index], depth + 1])
      continue
    }
    if (node !== null && typeof node === 'object') {
      const keys = Object.keys(node)
      const kind = keys[0]
      if (keys.length === 1 && (kind === 'anyOf' || kind === 'allOf')) {
        const list = (node as Record<string, unknown>)[kind]
        if (!Array.isArray(list) || list.length === 0)
          return { field: `${at}.${kind}`, message: 'must be a non-empty array' }
        if (list.length > MAX_REQUIREMENT_NODES)
          return { field: at, message: `has more than ${MAX_REQUIREMENT_NODES} parts` }
        for (let index = list.length - 1; index >= 0; index--) {
          stack.push([`${at}.${kind}[${index}]`, list[index], depth + 1])
        }
        continue
      }
    }
    return { field: at, message: 'must be a scope, an array of requirements, { anyOf } or { allOf }' }
  }
  return null
}

/** Validates a requirement once (at middleware construction); throws `InvalidArgumentError`. */
export function checkRequirement(field: string, requirement: unknown): ScopeRequirement {
  const problem = requirementProblem(field, requirement)
  if (problem !== null) throw new InvalidArgumentError(problem.field, problem.message)
  return requirement as ScopeRequirement
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
