// @keyward/core/adapter — the framework-free HTTP layer a framework adapter is built on: the
// authenticator, the scope check, header helpers and the response mapping (docs/architecture.md).

export type { BruteForceGuard, GuardAttempt } from './guard/brute-force-guard.ts'
export type { BruteForceOptions } from './guard/options.ts'
export {
  type Authentication,
  type AuthenticationFailure,
  type AuthenticationSuccess,
  type Authenticator,
  type AuthenticatorOptions,
  checkMiddlewareOptions,
  createAuthenticator,
  createScopeCheck,
  DEFAULT_KEY_HEADERS,
  DEFAULT_REALM,
  type MiddlewareOptions,
  type RequireScopesOptions,
} from './http/authenticator.ts'
export { type HttpRequestView, type RawValue, readRawHeader } from './http/extract-key.ts'
export {
  type AuthFailure,
  type GuardFailure,
  type HttpResponse,
  type HttpResponseOptions,
  PROBLEM_BASE_URI,
  PROBLEM_CONTENT_TYPE,
  type ProblemCode,
  type ProblemDetails,
  toHttpResponse,
} from './http/http-response.ts'
export {
  PERMISSIVE_PROXY_WARNING,
  type ProxySetting,
  warnSpoofableClientAddress,
} from './http/proxy-warning.ts'
export { OUTCOMES, type Outcome } from './verify-codes.ts'
