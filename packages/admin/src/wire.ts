/**
 * The JSON the admin API speaks, as TypeScript types: responses (records with ISO 8601 times) and
 * requests as they arrive after validation. `schemas.ts` declares each schema as a `ZodType` of
 * one of these, so the compiler holds the two together; clients may import them too.
 */

/** A rate-limit policy as a key or owner carries it. */
export interface PolicyJson {
  name: string
  points: number
  /** Window length in seconds. */
  duration: number
  blockDuration: number
  /** The reconciliation interval of a local-first policy (`sync.intervalMs`); `null`: strict. */
  syncMs: number | null
}

export interface CreditsJson {
  remaining: number
  refill: { amount: number; interval: number } | null
  refilledAt: string
}

/** A key record. It never contains the key itself or its hash. */
export interface KeyJson {
  id: string
  ownerId: string
  name: string | null
  environment: 'live' | 'test'
  scopes: string[]
  createdAt: string
  updatedAt: string
  expiresAt: string | null
  revokedAt: string | null
  disabled: boolean
  /** Why the key is disabled (e.g. `abuse:many-networks` for a quarantine); `null` when it is not. */
  disabledReason: string | null
  rateLimit: PolicyJson[] | null
  credits: CreditsJson | null
  meta: Record<string, unknown>
  rotatedFrom: string | null
  rotatedTo: string | null
  allowedNetworks: string[] | null
  /** When the key last verified; `null` when never, or when the keyward instance reports no usage. */
  lastUsedAt: string | null
}

/** `POST /keys`: the plaintext key, shown this once, and its record. */
export interface CreatedKeyJson {
  key: string
  record: KeyJson
}

/** `POST /keys/{id}/rotate`: the successor's plaintext key and record, and the old key's record. */
export interface RotatedKeyJson extends CreatedKeyJson {
  previous: KeyJson
}

export interface KeyPageJson {
  items: KeyJson[]
  /** Pass as `cursor` for the next page; `null` at the end. */
  cursor: string | null
}

export interface OwnerJson {
  id: string
  rateLimit: PolicyJson[] | null
  credits: CreditsJson | null
  meta: Record<string, unknown>
  createdAt: string
  updatedAt: string
}

/** Verifications per outcome: `VALID` and each `VerifyCode`. */
export type UsageCountsJson = Record<string, number>

export interface UsageReportJson {
  granularity: 'minute' | 'hour' | 'day'
  buckets: { start: string; counts: UsageCountsJson; requests: number; credits: number }[]
  totals: { counts: UsageCountsJson; requests: number; credits: number }
}

export interface UsageTopJson {
  items: { keyId: string; ownerId: string | null; requests: number; rejections: number; credits: number }[]
}

interface AbuseEventJsonBase {
  /** Start of the window the signal fired in (a signal fires once per key and window). */
  windowStart: string
  windowMs: number
  /** True when keyward disabled the key in response (`quarantine`). */
  quarantined: boolean
  timestamp: string
}

/** A key's abuse signal (`keyward.abuse.recent`), times as ISO 8601 strings. */
export type AbuseEventJson =
  | (AbuseEventJsonBase & {
      kind: 'wrong-secret'
      keyId: string
      ownerId: string
      attempts: number
      threshold: number
    })
  | (AbuseEventJsonBase & {
      kind: 'many-networks'
      keyId: string
      ownerId: string
      networks: number
      threshold: number
    })
  | (AbuseEventJsonBase & {
      kind: 'spike'
      keyId: string
      ownerId: string
      minute: string
      requests: number
      baseline: number
      factor: number
    })

export interface AbuseEventsJson {
  /** Newest first. */
  items: AbuseEventJson[]
}

/** An RFC 9457 problem, from the admin API or from the middleware that checked the admin key. */
export interface ProblemJson {
  type: string
  title: string
  status: number
  detail: string
  code: string
  /** For `validation-failed`: every invalid field. */
  errors?: { in: 'body' | 'query' | 'path'; field: string; message: string }[] | undefined
}

// ---- requests, as validated ---------------------------------------------------------------------

export interface PolicyRequest {
  name?: string | undefined
  points: number
  duration: number
  blockDuration?: number | undefined
  sync?: { intervalMs: number } | undefined
}

export interface CreditsRequest {
  remaining: number
  refill?: { amount: number; interval: number } | undefined
}

export interface CreateKeyRequest {
  /** Required from an admin; in self-service, omitted or the caller's own. */
  ownerId?: string | undefined
  name?: string | undefined
  scopes?: string[] | undefined
  expiresAt?: string | undefined
  rateLimit?: PolicyRequest | PolicyRequest[] | undefined
  credits?: CreditsRequest | undefined
  meta?: Record<string, unknown> | undefined
  environment?: 'live' | 'test' | undefined
  allowedNetworks?: string[] | undefined
  /** Why: kept in the lifecycle event, not on the key. */
  reason?: string | undefined
}

export interface UpdateKeyRequest {
  name?: string | null | undefined
  scopes?: string[] | undefined
  expiresAt?: string | null | undefined
  disabled?: boolean | undefined
  rateLimit?: PolicyRequest | PolicyRequest[] | null | undefined
  credits?: CreditsRequest | null | undefined
  meta?: Record<string, unknown> | undefined
  allowedNetworks?: string[] | null | undefined
  reason?: string | undefined
}

export interface RevokeKeyRequest {
  reason?: string | undefined
}

export interface RotateKeyRequest {
  gracePeriodMs?: number | undefined
  expiresAt?: string | null | undefined
  reason?: string | undefined
}

export interface OwnerRequest {
  rateLimit?: PolicyRequest | PolicyRequest[] | null | undefined
  credits?: CreditsRequest | null | undefined
  meta?: Record<string, unknown> | undefined
  reason?: string | undefined
}

export interface ListKeysParams {
  /** Required from an admin; in self-service it defaults to the caller's own. */
  ownerId?: string | undefined
  limit?: number | undefined
  cursor?: string | undefined
}

export interface UsageParams {
  from?: string | undefined
  to?: string | undefined
  granularity?: 'minute' | 'hour' | 'day' | undefined
}

export interface AbuseParams {
  limit?: number | undefined
}

export interface UsageTopParams {
  from?: string | undefined
  to?: string | undefined
  by?: 'requests' | 'rejections' | 'credits' | undefined
  limit?: number | undefined
  ownerId?: string | undefined
  granularity?: 'minute' | 'hour' | 'day' | undefined
}
