/**
 * How failures become problem+json: the validation hook turns every zod issue of a request into
 * one entry of a `validation-failed` problem, and the error handler maps what handlers throw —
 * `ProblemError`s, and keyward's own errors (docs/architecture.md, "Layers": `validation.ts`
 * names the field at fault) — to their status. Anything else is a 500 whose cause is reported on
 * keyward's `error` event, never sent to the client.
 */
import {
  InvalidArgumentError,
  KeyNotFoundError,
  type Keyward,
  OwnerNotFoundError,
  StoreError,
} from '@keyward/core'
import type { ErrorHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ZodError } from 'zod'
import type { AdminEnv } from './access.ts'
import {
  type FieldLocation,
  type FieldProblem,
  ProblemError,
  problemResponse,
  validationProblem,
} from './problems.ts'

const LOCATIONS: Readonly<Record<string, FieldLocation>> = { json: 'body', query: 'query', param: 'path' }

/** `['rateLimit', 1, 'points']` → `rateLimit[1].points`, the way keyward names fields. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

type Issue = ZodError['issues'][number]

/**
 * The issues of the alternative the value was meant for: the first whose issues do not say the
 * value itself has the wrong type (`rateLimit: { points: 0 }` is a policy with a bad field, not
 * a bad array). `null` when every alternative refuses the type.
 */
function intendedAlternative(alternatives: Issue[][]): Issue[] | null {
  return (
    alternatives.find(
      (issues) => !issues.some((issue) => issue.code === 'invalid_type' && issue.path.length === 0),
    ) ?? null
  )
}

function collect(
  issues: readonly Issue[],
  prefix: readonly PropertyKey[],
  location: FieldLocation,
  out: FieldProblem[],
): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path]
    const at = fieldPath(path)
    if (issue.code === 'invalid_union') {
      const intended = intendedAlternative(issue.errors)
      if (intended !== null) collect(intended, path, location, out)
      else out.push({ in: location, field: at, message: 'has the wrong type' })
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ in: location, field: fieldPath([...path, key]), message: 'is not a known field' })
    } else if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
      out.push({ in: location, field: at, message: 'is required' })
    } else {
      out.push({ in: location, field: at, message: issue.message })
    }
  }
}

/** Every issue of a failed validation, one entry per field (unknown keys each get their own). */
export function fieldProblems(error: ZodError, target: string): FieldProblem[] {
  const problems: FieldProblem[] = []
  collect(error.issues, [], LOCATIONS[target] ?? 'body', problems)
  return problems
}

/** The `defaultHook` of the app: a failed validation is a 400 listing every invalid field. */
export function validationHook(result: { success: boolean; error?: ZodError; target: string }): void {
  if (!result.success && result.error !== undefined) {
    throw validationProblem(fieldProblems(result.error, result.target))
  }
}

/** Where the arguments of a request are: a query for reads and deletes, else a body. */
function argumentsIn(method: string): FieldLocation {
  return method === 'GET' || method === 'DELETE' ? 'query' : 'body'
}

/** Core's message without its `keyward: invalid \`field\`: ` prefix. */
function argumentMessage(error: InvalidArgumentError): string {
  const prefix = `keyward: invalid \`${error.field}\`: `
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
}

export function createErrorHandler(keyward: Keyward): ErrorHandler<AdminEnv> {
  return function adminErrorHandler(error, c) {
    if (error instanceof ProblemError) return problemResponse(error)
    if (error instanceof HTTPException) {
      if (error.status === 415) return problemResponse(new ProblemError('UNSUPPORTED_MEDIA_TYPE'))
      if (error.status === 400) {
        return problemResponse(
          new ProblemError('VALIDATION_FAILED', {
            detail: 'The request body is not valid JSON.',
            errors: [{ in: 'body', field: '', message: 'is not valid JSON' }],
          }),
        )
      }
    }
    if (error instanceof InvalidArgumentError) {
      // `id` names the key itself: a state the change does not apply to (revoked, already rotated).
      if (error.field === 'id') {
        return problemResponse(new ProblemError('KEY_CONFLICT', { detail: `${argumentMessage(error)}.` }))
      }
      const problem = { in: argumentsIn(c.req.method), field: error.field, message: argumentMessage(error) }
      return problemResponse(validationProblem([problem]))
    }
    if (error instanceof KeyNotFoundError) return problemResponse(new ProblemError('KEY_NOT_FOUND'))
    if (error instanceof OwnerNotFoundError) return problemResponse(new ProblemError('OWNER_NOT_FOUND'))
    if (error instanceof StoreError) {
      return problemResponse(new ProblemError('STORE_UNAVAILABLE', { headers: { 'retry-after': '1' } }))
    }
    keyward.events.emit('error', { error, event: 'admin' })
    return problemResponse(new ProblemError('INTERNAL'))
  }
}
