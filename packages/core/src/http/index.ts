export {
  type Authentication,
  type AuthenticationFailure,
  type AuthenticationSuccess,
  type Authenticator,
  type AuthenticatorOptions,
  checkFunctionOption,
  checkMiddlewareOptions,
  createAuthenticator,
  createScopeCheck,
  DEFAULT_KEY_HEADERS,
  DEFAULT_REALM,
  type MiddlewareOptions,
  type RequireScopesOptions,
} from './authenticator.ts'
export type { BruteForceOptions } from './brute-force-guard.ts'
export {
  type Extraction,
  extractKey,
  type HttpRequestView,
  MAX_CREDENTIAL_LENGTH,
  type RawValue,
  readRawHeader,
} from './extract-key.ts'
export {
  type AuthFailure,
  type GuardFailure,
  type HttpResponse,
  type HttpResponseOptions,
  isValidRealm,
  PROBLEM_BASE_URI,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  type ProblemCode,
  type ProblemDetails,
  successHeaders,
  toHttpResponse,
} from './http-response.ts'
export {
  formatRateLimit,
  formatRateLimitPolicy,
  quoteString,
  retryAfterSeconds,
} from './rate-limit-headers.ts'
