/**
 * The admin API's schemas, written once: they validate requests, type the handlers and write the
 * OpenAPI 3.1 document. Request schemas mirror the checks `keyward.keys` and `keyward.owners`
 * make (which still run, and stay the authority), so a bad request is answered with every invalid
 * field at once instead of the first one core would throw for. Self-service requests use the
 * narrower schemas at the end: a customer never sets limits, credits or meta.
 */
import { z } from '@hono/zod-openapi'
import type {
  AbuseEventsJson,
  AbuseParams,
  CreatedKeyJson,
  CreateKeyRequest,
  KeyJson,
  KeyPageJson,
  ListKeysParams,
  OwnerJson,
  OwnerRequest,
  ProblemJson,
  RevokeKeyRequest,
  RotatedKeyJson,
  RotateKeyRequest,
  UpdateKeyRequest,
  UsageParams,
  UsageReportJson,
  UsageTopJson,
  UsageTopParams,
} from './wire.ts'

/** The shape of a parameter object whose output is `T` (params and queries must be `ZodObject`s). */
type ParamShape<T> = { [K in keyof T]-?: z.ZodType<T[K]> }

// ---- building blocks --------------------------------------------------------------------------

const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2026-01-01T00:00:00.000Z' })

/** RFC 6750 scope-token characters, as core checks them (printable ASCII, no space, `"` or `\`). */
const Scope = z
  .string()
  .regex(
    /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/,
    'must be 1–128 printable ASCII characters without space, " or \\',
  )
  .openapi({ example: 'orders:read' })

const Scopes = z.array(Scope).max(256)

export const OwnerId: z.ZodType<string> = z.string().min(1).max(256).openapi({ example: 'org_42' })

const Environment = z.enum(['live', 'test'])

const Meta = z.record(z.string(), z.unknown()).openapi({
  description: 'Free-form JSON (at most 16 KiB serialised).',
  example: { plan: 'pro' },
})

const AllowedNetworks = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(64)
  .openapi({ description: 'CIDRs the key may be used from.', example: ['203.0.113.0/24'] })

const PolicyInput = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ -')
      .optional(),
    points: z.int().min(1),
    duration: z.int().min(1).openapi({ description: 'Window length in seconds.' }),
    blockDuration: z.int().min(0).optional(),
    sync: z.strictObject({ intervalMs: z.int().min(10).max(60_000) }).optional(),
  })
  .openapi('RateLimitPolicy', { description: 'At most `points` requests per `duration` seconds.' })

const RateLimitInput = z.union([PolicyInput, z.array(PolicyInput).min(1).max(8)])

const CreditsInput = z
  .strictObject({
    remaining: z.int().min(0),
    refill: z
      .strictObject({
        amount: z.int().min(1),
        interval: z.int().min(1000).openapi({ description: 'Milliseconds between refills.' }),
      })
      .optional(),
  })
  .openapi('CreditsInput')

const Reason = z.string().min(1).max(1024).openapi({ description: 'Why: kept in the lifecycle event.' })

/** A key's public id: 12 base62 characters. Anything else is answered like an unknown id. */
export const KEY_ID_PATTERN: RegExp = /^[0-9A-Za-z]{12}$/

export const KeyIdParams: z.ZodObject<ParamShape<{ id: string }>> = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    description: "The key's public id (12 base62 characters).",
    example: 'gn4A6m8CKdow',
  }),
})

export const OwnerIdParams: z.ZodObject<ParamShape<{ id: string }>> = z.object({
  id: OwnerId.openapi({ param: { name: 'id', in: 'path' }, description: 'The owner id.' }),
})

// ---- responses --------------------------------------------------------------------------------

const ResolvedPolicy = z
  .object({
    name: z.string(),
    points: z.int(),
    duration: z.int(),
    blockDuration: z.int(),
    syncMs: z.int().nullable().openapi({ description: 'Local-first reconciliation interval; null: strict.' }),
  })
  .openapi('ResolvedRateLimitPolicy')

const Credits = z
  .object({
    remaining: z.int(),
    refill: z.object({ amount: z.int(), interval: z.int() }).nullable(),
    refilledAt: Timestamp,
  })
  .openapi('Credits')

export const Key: z.ZodType<KeyJson> = z
  .object({
    id: z.string(),
    ownerId: z.string(),
    name: z.string().nullable(),
    environment: Environment,
    scopes: z.array(z.string()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    disabled: z.boolean(),
    disabledReason: z.string().nullable().openapi({
      description: 'Why the key is disabled (`abuse:<kind>` when quarantined); null when it is not.',
    }),
    rateLimit: z.array(ResolvedPolicy).nullable(),
    credits: Credits.nullable(),
    meta: z.record(z.string(), z.unknown()),
    rotatedFrom: z.string().nullable(),
    rotatedTo: z.string().nullable(),
    allowedNetworks: z.array(z.string()).nullable(),
    lastUsedAt: Timestamp.nullable().openapi({
      description: 'When the key last verified, when the keyward instance reports usage; else null.',
    }),
  })
  .openapi('Key', { description: 'A key record. Never contains the key itself or its hash.' })

export const CreatedKey: z.ZodType<CreatedKeyJson> = z
  .object({
    key: z.string().openapi({ description: 'The plaintext key. Shown this once: it is never stored.' }),
    record: Key,
  })
  .openapi('CreatedKey')

export const RotatedKey: z.ZodType<RotatedKeyJson> = z
  .object({
    key: z.string().openapi({ description: 'The new plaintext key. Shown this once.' }),
    record: Key,
    previous: Key,
  })
  .openapi('RotatedKey')

export const KeyPage: z.ZodType<KeyPageJson> = z
  .object({
    items: z.array(Key),
    cursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null at the end.' }),
  })
  .openapi('KeyPage')

export const Owner: z.ZodType<OwnerJson> = z
  .object({
    id: z.string(),
    rateLimit: z.array(ResolvedPolicy).nullable(),
    credits: Credits.nullable(),
    meta: z.record(z.string(), z.unknown()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Owner')

export const Problem: z.ZodType<ProblemJson> = z
  .object({
    type: z.string().openapi({ example: 'https://keyward.dev/problems/key-not-found' }),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string(),
    errors: z
      .array(z.object({ in: z.enum(['body', 'query', 'path']), field: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'For `validation-failed`: every invalid field.' }),
  })
  .openapi('Problem', { description: 'An RFC 9457 problem.' })

// ---- usage ------------------------------------------------------------------------------------

const Granularity = z.enum(['minute', 'hour', 'day'])

const Counts = z.record(z.string(), z.int()).openapi({
  description: 'Verifications per outcome: `VALID` and each `VerifyCode`.',
  example: { VALID: 12 },
})

export const UsageReport: z.ZodType<UsageReportJson> = z
  .object({
    granularity: Granularity,
    buckets: z.array(z.object({ start: Timestamp, counts: Counts, requests: z.int(), credits: z.int() })),
    totals: z.object({ counts: Counts, requests: z.int(), credits: z.int() }),
  })
  .openapi('UsageReport')

export const UsageTop: z.ZodType<UsageTopJson> = z
  .object({
    items: z.array(
      z.object({
        keyId: z.string(),
        ownerId: z.string().nullable(),
        requests: z.int(),
        rejections: z.int(),
        credits: z.int(),
      }),
    ),
  })
  .openapi('UsageTop')

export const UsageQuery: z.ZodObject<ParamShape<UsageParams>> = z.object({
  from: Timestamp.optional().openapi({
    description: 'Start of the range. Default: one day (hour) before `to`.',
  }),
  to: Timestamp.optional().openapi({ description: 'End of the range, exclusive. Default: now.' }),
  granularity: Granularity.optional().openapi({ description: 'Bucket size. Default: `hour`.' }),
})

const Metric = z.enum(['requests', 'rejections', 'credits'])

export const UsageTopQuery: z.ZodObject<ParamShape<UsageTopParams>> = z.object({
  from: Timestamp.optional().openapi({ description: 'Start of the range. Default: one day before `to`.' }),
  to: Timestamp.optional().openapi({ description: 'End of the range, exclusive. Default: now.' }),
  by: Metric.optional().openapi({ description: 'What to rank by. Default: `requests`.' }),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: 'Default: 10.' }),
  ownerId: OwnerId.optional().openapi({ description: "Rank only this owner's keys." }),
  granularity: Granularity.optional().openapi({
    description:
      'The buckets summed. Default: the coarsest that fits the range exactly, else the finest kept long enough.',
  }),
})

// ---- abuse ------------------------------------------------------------------------------------

const AbuseBase = {
  windowStart: Timestamp.openapi({ description: 'Start of the window the signal fired in.' }),
  windowMs: z.int(),
  quarantined: z.boolean().openapi({ description: 'True when keyward disabled the key in response.' }),
  timestamp: Timestamp,
  keyId: z.string(),
  ownerId: z.string(),
}

export const AbuseEvents: z.ZodType<AbuseEventsJson> = z
  .object({
    items: z.array(
      z
        .discriminatedUnion('kind', [
          z.object({
            kind: z.literal('wrong-secret'),
            ...AbuseBase,
            attempts: z.int().openapi({ description: 'Wrong secrets in the window, every process.' }),
            threshold: z.int(),
          }),
          z.object({
            kind: z.literal('many-networks'),
            ...AbuseBase,
            networks: z.int().openapi({ description: 'Distinct client networks in the window.' }),
            threshold: z.int(),
          }),
          z.object({
            kind: z.literal('spike'),
            ...AbuseBase,
            minute: Timestamp.openapi({ description: 'The minute that spiked.' }),
            requests: z.int(),
            baseline: z.number().openapi({ description: 'Mean requests per minute before it.' }),
            factor: z.number(),
          }),
        ])
        .openapi('AbuseEvent', { description: 'An abuse signal about the key (docs/monitoring.md).' }),
    ),
  })
  .openapi('AbuseEvents')

export const AbuseQuery: z.ZodObject<ParamShape<AbuseParams>> = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: 'Default: 20.' }),
})

// ---- requests ---------------------------------------------------------------------------------

const PageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ description: 'Page size. Default: 100.' }),
  cursor: z.string().min(1).max(1024).optional().openapi({ description: 'From the previous page.' }),
}

export const ListKeysQuery: z.ZodObject<ParamShape<ListKeysParams>> = z.object({
  ownerId: OwnerId,
  ...PageQuery,
})

export const CreateKeyBody: z.ZodType<CreateKeyRequest> = z
  .strictObject({
    ownerId: OwnerId,
    name: z.string().max(256).optional(),
    scopes: Scopes.optional(),
    expiresAt: Timestamp.optional(),
    rateLimit: RateLimitInput.optional(),
    credits: CreditsInput.optional(),
    meta: Meta.optional(),
    environment: Environment.optional(),
    allowedNetworks: AllowedNetworks.optional(),
    reason: Reason.optional(),
  })
  .openapi('CreateKey')

export const UpdateKeyBody: z.ZodType<UpdateKeyRequest> = z
  .strictObject({
    name: z.string().max(256).nullable().optional(),
    scopes: Scopes.optional(),
    expiresAt: Timestamp.nullable().optional(),
    disabled: z.boolean().optional(),
    rateLimit: RateLimitInput.nullable().optional(),
    credits: CreditsInput.nullable().optional(),
    meta: Meta.optional(),
    allowedNetworks: AllowedNetworks.nullable().optional(),
    reason: Reason.optional(),
  })
  .openapi('UpdateKey')

export const RevokeKeyBody: z.ZodType<RevokeKeyRequest> = z
  .strictObject({ reason: Reason.optional() })
  .openapi('RevokeKey')

export const RotateKeyBody: z.ZodType<RotateKeyRequest> = z
  .strictObject({
    gracePeriodMs: z
      .int()
      .min(0)
      .optional()
      .openapi({ description: 'How long the old key keeps working, in ms; 0 (default) revokes it at once.' }),
    expiresAt: Timestamp.nullable()
      .optional()
      .openapi({ description: "Expiry of the new key. Default: the old key's." }),
    reason: Reason.optional(),
  })
  .openapi('RotateKey')

export const DeleteQuery: z.ZodObject<ParamShape<{ reason?: string | undefined }>> = z.object({
  reason: Reason.optional(),
})

export const OwnerBody: z.ZodType<OwnerRequest> = z
  .strictObject({
    rateLimit: RateLimitInput.nullable().optional(),
    credits: CreditsInput.nullable().optional(),
    meta: Meta.optional(),
    reason: Reason.optional(),
  })
  .openapi('OwnerInput')

// ---- self-service requests ----------------------------------------------------------------------

export const SelfServiceListKeysQuery: z.ZodObject<ParamShape<ListKeysParams>> = z.object({
  ownerId: OwnerId.optional().openapi({
    description: 'Your own owner id (the default); any other lists nothing.',
  }),
  ...PageQuery,
})

export const SelfServiceCreateKeyBody: z.ZodType<CreateKeyRequest> = z
  .strictObject({
    ownerId: OwnerId.optional().openapi({ description: 'Your own owner id, or omit it.' }),
    name: z.string().max(256).optional(),
    scopes: Scopes.optional(),
    expiresAt: Timestamp.optional(),
    environment: Environment.optional(),
    allowedNetworks: AllowedNetworks.optional(),
    reason: Reason.optional(),
  })
  .openapi('SelfServiceCreateKey')

export const SelfServiceUpdateKeyBody: z.ZodType<UpdateKeyRequest> = z
  .strictObject({
    name: z.string().max(256).nullable().optional(),
    scopes: Scopes.optional(),
    expiresAt: Timestamp.nullable().optional(),
    disabled: z.boolean().optional(),
    allowedNetworks: AllowedNetworks.nullable().optional(),
    reason: Reason.optional(),
  })
  .openapi('SelfServiceUpdateKey')
