/**
 * `createKeyward`: validates the options once, then wires the key manager (`keys.*`), the verify
 * pipeline and the event emitter around one `KeyStore`. Verification follows DESIGN §3's order —
 * shape/crc → lookup → secret → disabled/revoked/expired → environment → scopes → rate limits →
 * credits — and returns a result for every expected outcome instead of throwing.
 */
import { ConfigError, InvalidArgumentError, KeyNotFoundError } from './errors.ts'
import { emitVerification as emitVerificationEvent, KeywardEmitter } from './events.ts'
import { KeyHasher, type Pepper } from './hashing.ts'
import { type Environment, generateKey, PREFIX_PATTERN, parseKey, type RandomSource } from './key-format.ts'
import { RateLimits, resolvePolicies } from './rate-limits.ts'
import {
  checkCredits,
  checkDate,
  checkMeta,
  checkName,
  checkOwnerId,
  checkRateLimit,
  checkScopes,
  toKeyRecord,
  toVerifiedKey,
} from './records.ts'
import { missingScopes, type ScopeRequirement, satisfies } from './scopes.ts'
import type { KeyChanges, KeyStore } from './store/interface.ts'
import { MemoryStore } from './store/memory-store.ts'
import type {
  CreditsInput,
  KeyRecord,
  RateLimitPolicy,
  RateLimitState,
  StoredKey,
  VerifyCode,
  VerifyFailure,
  VerifyOptions,
  VerifyResult,
} from './types.ts'

export interface KeywardOptions {
  /** Key prefix, 2–12 chars of `[a-z0-9]`. @default 'kw' */
  prefix?: string | undefined
  /** The environment this server accepts; keys of the other are `WRONG_ENVIRONMENT`. @default 'live' */
  environment?: Environment | undefined
  /** The pepper for key hashes (≥ 32 chars). Required with a shared store; optional in memory. */
  secret?: string | undefined
  /** Versioned peppers, for rotation: new keys use the highest version. Instead of `secret`. */
  secrets?: Pepper[] | undefined
  /** Where records, counters and limits live. @default new MemoryStore() */
  store?: KeyStore | undefined
  /** Rate limit for keys without their own. @default none (such keys are not rate limited) */
  rateLimit?: RateLimitPolicy | RateLimitPolicy[] | undefined
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
  /** Random bytes for ids and secrets. @default crypto.randomBytes */
  random?: RandomSource
  /** `Retry-After` hint, in ms, when the store is unreachable. @default 1000 */
  unavailableRetryAfterMs?: number
}

export interface CreateKeyInput {
  ownerId: string
  name?: string
  scopes?: string[]
  expiresAt?: Date
  rateLimit?: RateLimitPolicy | RateLimitPolicy[]
  credits?: CreditsInput
  meta?: Record<string, unknown>
  /** @default the server's `environment` */
  environment?: Environment
}

export interface UpdateKeyInput {
  name?: string | null
  scopes?: string[]
  expiresAt?: Date | null
  disabled?: boolean
  rateLimit?: RateLimitPolicy | RateLimitPolicy[] | null
  credits?: CreditsInput | null
  meta?: Record<string, unknown>
}

export interface RotateOptions {
  /** How long the old key keeps working, in ms; 0 revokes it at once. @default 0 */
  gracePeriodMs?: number
  /** Expiry of the new key. @default the old key's */
  expiresAt?: Date | null
}

export interface ListKeysOptions {
  ownerId: string
  /** Page size, 1–1000. @default 100 */
  limit?: number
  cursor?: string
}

export interface CreatedKey {
  /** The plaintext key. Shown this once: it is never stored. */
  key: string
  record: KeyRecord
}

export interface KeyManager {
  create(input: CreateKeyInput): Promise<CreatedKey>
  get(id: string): Promise<KeyRecord | null>
  list(options: ListKeysOptions): Promise<{ items: KeyRecord[]; cursor: string | null }>
  update(id: string, patch: UpdateKeyInput): Promise<KeyRecord>
  revoke(id: string): Promise<KeyRecord>
  rotate(id: string, options?: RotateOptions): Promise<CreatedKey & { previous: KeyRecord }>
}

export interface Keyward {
  readonly prefix: string
  readonly environment: Environment
  readonly store: KeyStore
  readonly keys: KeyManager
  readonly events: KeywardEmitter
  verify(token: string | null | undefined, options?: VerifyOptions): Promise<VerifyResult>
  /** The current time as keyward sees it (the injected clock). */
  now(): number
  close(): Promise<void>
}

function resolveOptions(options: KeywardOptions) {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'must be an object')
  const prefix = options.prefix ?? 'kw'
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError('prefix', 'must be 2–12 characters of a-z and 0-9 (no underscore)')
  }
  const environment = options.environment ?? 'live'
  if (environment !== 'live' && environment !== 'test') {
    throw new ConfigError('environment', "must be 'live' or 'test'")
  }
  const store = options.store ?? new MemoryStore()
  if (store === null || typeof store !== 'object' || typeof store.get !== 'function') {
    throw new ConfigError('store', 'must implement KeyStore (e.g. new MemoryStore() or new RedisStore(…))')
  }
  let hasher = KeyHasher.fromOptions(options.secret, options.secrets)
  if (hasher === null) {
    if (store.shared) {
      throw new ConfigError(
        'secret',
        'a shared store needs a pepper: set `secret` (e.g. process.env.KEYWARD_SECRET, 32+ chars from `openssl rand -base64 32`) so every process hashes keys alike',
      )
    }
    hasher = KeyHasher.ephemeral()
  }
  const defaultPolicies =
    options.rateLimit === undefined ? null : resolvePolicies('rateLimit', options.rateLimit, 'default')
  for (const [name, fn] of [
    ['now', options.now],
    ['random', options.random],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') throw new ConfigError(name, 'must be a function')
  }
  const unavailableRetryAfterMs = options.unavailableRetryAfterMs ?? 1000
  if (!Number.isSafeInteger(unavailableRetryAfterMs) || unavailableRetryAfterMs < 0) {
    throw new ConfigError('unavailableRetryAfterMs', 'must be a non-negative integer')
  }
  return {
    prefix,
    environment,
    store,
    hasher,
    defaultPolicies,
    now: options.now ?? Date.now,
    random: options.random,
    unavailableRetryAfterMs,
  }
}

/**
 * Creates a keyward instance. Throws `ConfigError` for an invalid option.
 *
 * @example
 * const keyward = createKeyward({ prefix: 'acme', secret: process.env.KEYWARD_SECRET })
 * const { key } = await keyward.keys.create({ ownerId: 'org_42', scopes: ['orders:read'] })
 * const result = await keyward.verify(key, { scopes: 'orders:read' })
 */
export function createKeyward(options: KeywardOptions = {}): Keyward {
  const config = resolveOptions(options)
  const { prefix, environment, store, hasher, defaultPolicies, now } = config
  const events = new KeywardEmitter()
  const rateLimits = new RateLimits(store)

  const emitVerification = (
    code: VerifyCode | 'VALID',
    keyId: string | null,
    ownerId: string | null,
    cost: number,
  ) => emitVerificationEvent(events, now, code, keyId, ownerId, cost)

  const fail = (failure: VerifyFailure, keyId: string | null, ownerId: string | null): VerifyFailure => {
    emitVerification(failure.code, keyId, ownerId, 0)
    return failure
  }

  const unavailable = (keyId: string | null, ownerId: string | null): VerifyFailure =>
    fail({ valid: false, code: 'UNAVAILABLE', retryAfterMs: config.unavailableRetryAfterMs }, keyId, ownerId)

  async function verify(
    token: string | null | undefined,
    verifyOptions?: VerifyOptions,
  ): Promise<VerifyResult> {
    // A bad `cost` is a programmer error: refuse it up front, before any store access or rate-limit
    // point is spent, and whether or not the key happens to have credits.
    const requestedCost = verifyOptions?.cost
    if (requestedCost !== undefined && (!Number.isSafeInteger(requestedCost) || requestedCost < 0)) {
      throw new InvalidArgumentError('cost', 'must be a non-negative integer')
    }
    if (token === undefined || token === null || token === '') {
      return fail({ valid: false, code: 'MISSING' }, null, null)
    }
    const parsed = parseKey(token, prefix)
    if (parsed === null) return fail({ valid: false, code: 'MALFORMED' }, null, null)

    let record: StoredKey | null
    try {
      record = await store.get(parsed.id)
    } catch {
      return unavailable(parsed.id, null)
    }
    if (record === null) {
      // Hash anyway, so an unknown id and a wrong secret take the same time: no oracle for ids.
      hasher.hash(token)
      return fail({ valid: false, code: 'NOT_FOUND' }, parsed.id, null)
    }
    if (!hasher.matches(token, record.hash, record.pepperVersion)) {
      return fail({ valid: false, code: 'NOT_FOUND' }, parsed.id, null)
    }

    if (record.pepperVersion !== hasher.currentVersion) rehash(record, token)

    const key = toVerifiedKey(record)
    const at = now()
    const rejectedCode: VerifyCode | null = record.disabled
      ? 'DISABLED'
      : record.revokedAt !== null && record.revokedAt <= at
        ? 'REVOKED'
        : record.expiresAt !== null && record.expiresAt <= at
          ? 'EXPIRED'
          : parsed.environment !== environment
            ? 'WRONG_ENVIRONMENT'
            : null
    if (rejectedCode !== null)
      return fail({ valid: false, code: rejectedCode, key }, record.id, record.ownerId)

    const requirement = verifyOptions?.scopes
    if (requirement !== undefined && !satisfies(record.scopes, requirement)) {
      return fail(
        {
          valid: false,
          code: 'INSUFFICIENT_SCOPE',
          key,
          missingScopes: missingScopes(record.scopes, requirement as ScopeRequirement),
        },
        record.id,
        record.ownerId,
      )
    }

    const policies = record.rateLimit ?? defaultPolicies
    let rateLimit: RateLimitState[] | undefined
    if (policies !== null) {
      let outcome: Awaited<ReturnType<RateLimits['consume']>>
      try {
        outcome = await rateLimits.consume(record.id, policies)
      } catch {
        return unavailable(record.id, record.ownerId)
      }
      rateLimit = outcome.states
      if (outcome.limited) {
        return fail(
          {
            valid: false,
            code: 'RATE_LIMITED',
            key,
            retryAfterMs: outcome.retryAfterMs,
            rateLimit: outcome.states,
          },
          record.id,
          record.ownerId,
        )
      }
    }

    let cost = 0
    let credits: { remaining: number } | undefined
    if (record.credits !== null) {
      cost = requestedCost ?? 1
      // During a rotation's grace period the old key spends from its successor's pool.
      let spend: Awaited<ReturnType<KeyStore['spendCredits']>>
      try {
        spend = await store.spendCredits(record.rotatedTo ?? record.id, cost, at)
      } catch {
        return unavailable(record.id, record.ownerId)
      }
      if (spend !== null) {
        credits = { remaining: spend.remaining }
        if (!spend.spent) {
          const failure: VerifyFailure = { valid: false, code: 'QUOTA_EXCEEDED', key, credits }
          // A retry only helps when the refill can cover this cost.
          const refill = record.credits.refill
          if (spend.nextRefillAt !== null && refill !== null && refill.amount >= cost) {
            failure.retryAfterMs = Math.max(0, spend.nextRefillAt - at)
          }
          if (rateLimit !== undefined) failure.rateLimit = rateLimit
          return fail(failure, record.id, record.ownerId)
        }
      } else {
        cost = 0
      }
    }

    emitVerification('VALID', record.id, record.ownerId, cost)
    const success: VerifyResult = { valid: true, key }
    if (rateLimit !== undefined) success.rateLimit = rateLimit
    if (credits !== undefined) success.credits = credits
    return success
  }

  // Keys hashed under an older pepper move to the current one the first time they verify, so an
  // old pepper can be dropped from `secrets` once its keys have been seen. Best effort, once per id
  // at a time, off the request's path: a failed write only means it is tried again next time.
  const rehashing = new Set<string>()
  function rehash(record: StoredKey, token: string): void {
    if (rehashing.has(record.id)) return
    rehashing.add(record.id)
    const changes: KeyChanges = {
      hash: hasher.hash(token),
      pepperVersion: hasher.currentVersion,
      updatedAt: record.updatedAt,
    }
    store
      .update(record.id, changes)
      .catch(() => {})
      .finally(() => rehashing.delete(record.id))
  }

  async function require(id: string): Promise<StoredKey> {
    const record = typeof id === 'string' ? await store.get(id) : null
    if (record === null) throw new KeyNotFoundError(String(id))
    return record
  }

  function newRecord(
    id: string,
    key: string,
    fields: Omit<StoredKey, 'id' | 'hash' | 'pepperVersion' | 'createdAt' | 'updatedAt'>,
    at: number,
  ): StoredKey {
    return {
      id,
      hash: hasher.hash(key),
      pepperVersion: hasher.currentVersion,
      createdAt: at,
      updatedAt: at,
      ...fields,
    }
  }

  const keys: KeyManager = {
    async create(input) {
      if (input === null || typeof input !== 'object')
        throw new InvalidArgumentError('input', 'must be an object')
      const keyEnvironment = input.environment ?? environment
      if (keyEnvironment !== 'live' && keyEnvironment !== 'test') {
        throw new InvalidArgumentError('environment', "must be 'live' or 'test'")
      }
      const at = now()
      const fields = {
        ownerId: checkOwnerId(input.ownerId),
        name: checkName(input.name),
        environment: keyEnvironment,
        scopes: checkScopes('scopes', input.scopes ?? []),
        expiresAt: checkDate('expiresAt', input.expiresAt),
        revokedAt: null,
        disabled: false,
        rateLimit: checkRateLimit(input.rateLimit),
        credits: checkCredits(input.credits, at),
        meta: checkMeta(input.meta),
        rotatedFrom: null,
        rotatedTo: null,
      }
      const { key, id } = generateKey(prefix, keyEnvironment, config.random)
      const record = newRecord(id, key, fields, at)
      await store.create(record)
      const view = toKeyRecord(record)
      events.emit('key.created', { type: 'key.created', key: view, timestamp: at })
      return { key, record: view }
    },

    async get(id) {
      if (typeof id !== 'string') return null
      const record = await store.get(id)
      return record === null ? null : toKeyRecord(record)
    },

    async list({ ownerId, limit = 100, cursor }) {
      checkOwnerId(ownerId)
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
        throw new InvalidArgumentError('limit', 'must be an integer from 1 to 1000')
      }
      const page = await store.listByOwner(ownerId, cursor === undefined ? { limit } : { limit, cursor })
      return { items: page.records.map(toKeyRecord), cursor: page.cursor }
    },

    async update(id, patch) {
      if (patch === null || typeof patch !== 'object')
        throw new InvalidArgumentError('patch', 'must be an object')
      const at = now()
      const changes: KeyChanges = { updatedAt: at }
      if (patch.name !== undefined) changes.name = checkName(patch.name)
      if (patch.scopes !== undefined) changes.scopes = checkScopes('scopes', patch.scopes)
      if (patch.expiresAt !== undefined) changes.expiresAt = checkDate('expiresAt', patch.expiresAt)
      if (patch.disabled !== undefined) {
        if (typeof patch.disabled !== 'boolean')
          throw new InvalidArgumentError('disabled', 'must be a boolean')
        changes.disabled = patch.disabled
      }
      if (patch.rateLimit !== undefined) changes.rateLimit = checkRateLimit(patch.rateLimit)
      if (patch.credits !== undefined) changes.credits = checkCredits(patch.credits, at)
      if (patch.meta !== undefined) changes.meta = checkMeta(patch.meta)
      const updated = await store.update(id, changes)
      if (updated === null) throw new KeyNotFoundError(id)
      const view = toKeyRecord(updated)
      events.emit('key.updated', { type: 'key.updated', key: view, timestamp: at })
      return view
    },

    async revoke(id) {
      const existing = await require(id)
      if (existing.revokedAt !== null) return toKeyRecord(existing)
      const at = now()
      const updated = await store.update(id, { revokedAt: at, updatedAt: at })
      if (updated === null) throw new KeyNotFoundError(id)
      const view = toKeyRecord(updated)
      events.emit('key.revoked', { type: 'key.revoked', key: view, timestamp: at })
      return view
    },

    async rotate(id, rotateOptions = {}) {
      const gracePeriodMs = rotateOptions.gracePeriodMs ?? 0
      if (!Number.isSafeInteger(gracePeriodMs) || gracePeriodMs < 0) {
        throw new InvalidArgumentError('gracePeriodMs', 'must be a non-negative integer')
      }
      const old = await require(id)
      const at = now()
      if (old.revokedAt !== null && old.revokedAt <= at) {
        throw new InvalidArgumentError('id', 'a revoked key cannot be rotated')
      }
      if (old.expiresAt !== null && old.expiresAt <= at && rotateOptions.expiresAt === undefined) {
        throw new InvalidArgumentError(
          'expiresAt',
          'the key has expired: give the new key an `expiresAt` (or null)',
        )
      }
      if (old.rotatedTo !== null) {
        throw new InvalidArgumentError(
          'id',
          `this key was already rotated; rotate its successor ${old.rotatedTo}`,
        )
      }
      const { key, id: successorId } = generateKey(prefix, old.environment, config.random)
      const successor = newRecord(
        successorId,
        key,
        {
          ownerId: old.ownerId,
          name: old.name,
          environment: old.environment,
          scopes: old.scopes,
          expiresAt:
            rotateOptions.expiresAt === undefined
              ? old.expiresAt
              : checkDate('expiresAt', rotateOptions.expiresAt),
          revokedAt: null,
          disabled: old.disabled,
          rateLimit: old.rateLimit,
          credits: old.credits === null ? null : { ...old.credits },
          meta: old.meta,
          rotatedFrom: old.id,
          rotatedTo: null,
        },
        at,
      )
      const changes: KeyChanges = { rotatedTo: successorId, updatedAt: at }
      if (gracePeriodMs === 0) changes.revokedAt = at
      else changes.expiresAt = Math.min(old.expiresAt ?? Number.POSITIVE_INFINITY, at + gracePeriodMs)
      const previous = await store.rotate(id, successor, changes)
      if (previous === null) throw new KeyNotFoundError(id)
      const record = toKeyRecord(successor)
      const previousView = toKeyRecord(previous)
      events.emit('key.rotated', { type: 'key.rotated', key: previousView, successor: record, timestamp: at })
      return { key, record, previous: previousView }
    },
  }

  let closed = false
  return {
    prefix,
    environment,
    store,
    keys,
    events,
    verify,
    now,
    async close() {
      if (closed) return
      closed = true
      events.removeAll()
      await store.close()
    },
  }
}
