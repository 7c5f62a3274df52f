// @keyward/admin — the admin and self-service HTTP API over a keyward instance, its OpenAPI
// document and the web dashboard.
export { type Access, type AdminBindings, type AdminEnv, AdminScope } from './access.ts'
export { type Admin, createAdmin } from './create-admin.ts'
export type { KoaContextLike, KoaMiddleware, NodeListener } from './node.ts'
export type { AdminOptions, OwnerFromResult } from './options.ts'
export { ADMIN_PROBLEMS, AdminProblemCode, type FieldProblem } from './problems.ts'
export type {
  AbuseEventJson,
  AbuseEventsJson,
  CreatedKeyJson,
  CreateKeyRequest,
  CreditsJson,
  KeyJson,
  KeyPageJson,
  OwnerJson,
  OwnerRequest,
  PolicyJson,
  ProblemJson,
  RotatedKeyJson,
  RotateKeyRequest,
  UpdateKeyRequest,
  UsageReportJson,
  UsageTopJson,
} from './wire.ts'
