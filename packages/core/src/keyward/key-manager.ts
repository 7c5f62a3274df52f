/**
 * The key manager behind `keyward.keys`: create, read, list, update, revoke, rotate, delete and
 * purge records in the store, validating every input (unknown fields included) and emitting a
 * lifecycle event, with who acted and why, for each change. The plaintext key exists only in the
 * value `create` and `rotate` return.
 */
import { InvalidArgumentError, KeyNotFoundError } from '../errors.ts'
import type { KeyLifecycleEvent, KeywardEmitter } from '../events.ts'
import { type Environment, generateKey } from '../key-format.ts'
import { toKeyRecord } from '../records.ts'
import type { KeyChanges } from '../store/interface.ts'
import type { CreditsInput, KeyRecord, RateLimitPolicy, StoredKey } from '../types.ts'
import type { LastUsedReader } from '../usage/last-used.ts'
import {
  argumentError,
  checkInteger,
  checkKnownFields,
  checkObject,
  checkOneOf,
  optionalInteger,
} from '../validation.ts'
import {
  type Audit,
  type AuditOptions,
  checkAllowedNetworks,
  checkAudit,
  checkCredits,
  checkDate,
  checkMeta,
  checkName,
  checkOwnerId,
  checkRateLimit,
  checkScopes,
} from './key-input.ts'
import type { KeywardConfig } from './options.ts'

export type { AuditOptions }

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
  /** CIDRs the key may be used from (`['203.0.113.0/24', '2001:db8::/32']`). @default anywhere */
  allowedNetworks?: string[]
}

export interface UpdateKeyInput {
  name?: string | null
  scopes?: string[]
  expiresAt?: Date | null
  disabled?: boolean
  rateLimit?: RateLimitPolicy | RateLimitPolicy[] | null
  credits?: CreditsInput | null
  meta?: Record<string, unknown>
  /** `null` lifts the restriction. */
  allowedNetworks?: string[] | null
}

export interface RotateOptions extends AuditOptions {
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
  create(input: CreateKeyInput, options?: AuditOptions): Promise<CreatedKey>
  get(id: string): Promise<KeyRecord | null>
  list(options: ListKeysOptions): Promise<{ items: KeyRecord[]; cursor: string | null }>
  update(id: string, patch: UpdateKeyInput, options?: AuditOptions): Promise<KeyRecord>
  revoke(id: string, options?: AuditOptions): Promise<KeyRecord>
  rotate(id: string, options?: RotateOptions): Promise<CreatedKey & { previous: KeyRecord }>
  /**
   * Removes the key for good (record, owner index, and its credit pool when it is the newest of
   * its rotation chain). Its id then answers `NOT_FOUND`. Throws `KeyNotFoundError` for an unknown id.
   */
  delete(id: string, options?: AuditOptions): Promise<KeyRecord>
  /**
   * Deletes keys revoked or expired longer than the `keyRetentionMs` ago (keyward also runs this
   * periodically). Returns how many were removed.
   */
  purge(): Promise<number>
}

const CREATE_FIELDS: ReadonlySet<string> = new Set([
  'ownerId',
  'name',
  'scopes',
  'expiresAt',
  'rateLimit',
  'credits',
  'meta',
  'environment',
  'allowedNetworks',
])
const UPDATE_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'scopes',
  'expiresAt',
  'disabled',
  'rateLimit',
  'credits',
  'meta',
  'allowedNetworks',
])
const ROTATE_FIELDS: ReadonlySet<string> = new Set(['gracePeriodMs', 'expiresAt', 'actor', 'reason'])
const LIST_FIELDS: ReadonlySet<string> = new Set(['ownerId', 'limit', 'cursor'])
const PURGE_BATCH = 500

export function createKeyManager(
  config: KeywardConfig,
  events: KeywardEmitter,
  lastUsedOf: LastUsedReader,
): KeyManager {
  const { prefix, store, hasher, now } = config

  /** The public view of an existing record, with its `lastUsedAt`. */
  async function view(record: StoredKey): Promise<KeyRecord> {
    const [lastUsedAt] = await lastUsedOf([record.id])
    return toKeyRecord(record, lastUsedAt ?? null)
  }

  /**
   * The view after a write that has happened: usage lives apart from records (on a cluster, maybe
   * on a node that is down), and failing to read it must not report a done write as failed.
   */
  async function viewAfterWrite(record: StoredKey): Promise<KeyRecord> {
    const lastUsedAt = await lastUsedOf([record.id]).then(
      ([at]) => at ?? null,
      () => null,
    )
    return toKeyRecord(record, lastUsedAt)
  }

  async function require(id: string): Promise<StoredKey> {
    const record = typeof id === 'string' ? await store.get(id) : null
    if (record === null) throw new KeyNotFoundError(String(id))
    return record
  }

  function newRecord(
    id: string,
    key: string,
    fields: Omit<StoredKey, 'id' | 'hash' | 'pepperVersion' | 'createdAt' | 'updatedAt' | 'chainId'>,
    chainId: string,
    at: number,
  ): StoredKey {
    return {
      id,
      hash: hasher.hash(key),
      pepperVersion: hasher.currentVersion,
      createdAt: at,
      updatedAt: at,
      ...fields,
      chainId,
    }
  }

  function emit(
    type: KeyLifecycleEvent['type'],
    key: KeyRecord,
    audit: Audit,
    at: number,
    successor?: KeyRecord,
  ): void {
    const event: KeyLifecycleEvent = { type, key, timestamp: at, actor: audit.actor, reason: audit.reason }
    if (successor !== undefined) event.successor = successor
    events.emit(type, event)
  }

  return {
    async create(input, options) {
      checkObject('input', input, argumentError)
      checkKnownFields('', input, CREATE_FIELDS)
      const audit = checkAudit(options)
      const environment = checkOneOf(
        'environment',
        input.environment ?? config.environment,
        ['live', 'test'],
        argumentError,
      )
      const at = now()
      const fields = {
        ownerId: checkOwnerId(input.ownerId),
        name: checkName(input.name),
        environment,
        scopes: checkScopes('scopes', input.scopes ?? []),
        expiresAt: checkDate('expiresAt', input.expiresAt),
        revokedAt: null,
        disabled: false,
        rateLimit: checkRateLimit(input.rateLimit),
        credits: checkCredits(input.credits, at),
        meta: checkMeta(input.meta),
        rotatedFrom: null,
        rotatedTo: null,
        allowedNetworks: checkAllowedNetworks(input.allowedNetworks),
      }
      const { key, id } = generateKey(prefix, environment, config.random)
      const record = newRecord(id, key, fields, id, at)
      await store.create(record)
      const view = toKeyRecord(record)
      emit('key.created', view, audit, at)
      return { key, record: view }
    },

    async get(id) {
      if (typeof id !== 'string') return null
      const record = await store.get(id)
      return record === null ? null : view(record)
    },

    async list(options) {
      checkObject('options', options, argumentError)
      checkKnownFields('', options, LIST_FIELDS)
      const { ownerId, limit = 100, cursor } = options
      checkOwnerId(ownerId)
      checkInteger('limit', limit, { min: 1, max: 1000 }, argumentError)
      const page = await store.listByOwner(ownerId, cursor === undefined ? { limit } : { limit, cursor })
      const lastUsed = await lastUsedOf(page.records.map((record) => record.id))
      const items = page.records.map((record, index) => toKeyRecord(record, lastUsed[index] ?? null))
      return { items, cursor: page.cursor }
    },

    async update(id, patch, options) {
      checkObject('patch', patch, argumentError)
      checkKnownFields('', patch, UPDATE_FIELDS)
      const audit = checkAudit(options)
      const at = now()
      const changes: KeyChanges = { updatedAt: at }
      if (patch.name !== undefined) changes.name = checkName(patch.name)
      if (patch.scopes !== undefined) changes.scopes = checkScopes('scopes', patch.scopes)
      if (patch.expiresAt !== undefined) changes.expiresAt = checkDate('expiresAt', patch.expiresAt)
      if (patch.disabled !== undefined) {
        if (typeof patch.disabled !== 'boolean')
          throw new InvalidArgumentError('disabled', 'must be a boolean')
        changes.disabled = patch.disabled
        // The reason stays on the record while the key is disabled, for whoever re-enables it.
        changes.disabledReason = patch.disabled ? audit.reason : null
      }
      if (patch.rateLimit !== undefined) changes.rateLimit = checkRateLimit(patch.rateLimit)
      if (patch.credits !== undefined) changes.credits = checkCredits(patch.credits, at)
      if (patch.meta !== undefined) changes.meta = checkMeta(patch.meta)
      if (patch.allowedNetworks !== undefined)
        changes.allowedNetworks = checkAllowedNetworks(patch.allowedNetworks)
      const updated = await store.update(id, changes)
      if (updated === null) throw new KeyNotFoundError(id)
      const updatedView = await viewAfterWrite(updated)
      emit('key.updated', updatedView, audit, at)
      return updatedView
    },

    async revoke(id, options) {
      const audit = checkAudit(options)
      const existing = await require(id)
      if (existing.revokedAt !== null) return view(existing)
      const at = now()
      const updated = await store.update(id, { revokedAt: at, updatedAt: at })
      if (updated === null) throw new KeyNotFoundError(id)
      const revokedView = await viewAfterWrite(updated)
      emit('key.revoked', revokedView, audit, at)
      return revokedView
    },

    async rotate(id, options = {}) {
      const audit = checkAudit(options, ROTATE_FIELDS)
      const gracePeriodMs = optionalInteger('gracePeriodMs', options.gracePeriodMs, 0, {}, argumentError)
      const old = await require(id)
      const at = now()
      if (old.revokedAt !== null && old.revokedAt <= at) {
        throw new InvalidArgumentError('id', 'a revoked key cannot be rotated')
      }
      if (old.expiresAt !== null && old.expiresAt <= at && options.expiresAt === undefined) {
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
            options.expiresAt === undefined ? old.expiresAt : checkDate('expiresAt', options.expiresAt),
          revokedAt: null,
          disabled: old.disabled,
          disabledReason: old.disabledReason ?? null,
          rateLimit: old.rateLimit,
          credits: old.credits === null ? null : { ...old.credits },
          meta: old.meta,
          rotatedFrom: old.id,
          rotatedTo: null,
          allowedNetworks: old.allowedNetworks,
        },
        old.chainId ?? old.id,
        at,
      )
      const changes: KeyChanges = { rotatedTo: successorId, updatedAt: at }
      if (gracePeriodMs === 0) changes.revokedAt = at
      else changes.expiresAt = Math.min(old.expiresAt ?? Number.POSITIVE_INFINITY, at + gracePeriodMs)
      const previous = await store.rotate(id, successor, changes)
      if (previous === null) throw new KeyNotFoundError(id)
      const record = toKeyRecord(successor)
      const previousView = await viewAfterWrite(previous)
      emit('key.rotated', previousView, audit, at, record)
      return { key, record, previous: previousView }
    },

    async delete(id, options) {
      const audit = checkAudit(options)
      const removed = typeof id === 'string' ? await store.delete(id) : null
      if (removed === null) throw new KeyNotFoundError(String(id))
      const removedView = await viewAfterWrite(removed)
      emit('key.deleted', removedView, audit, now())
      return removedView
    },

    async purge() {
      if (config.keyRetentionMs === null) return 0
      const before = now() - config.keyRetentionMs
      let purged = 0
      for (;;) {
        const ids = await store.purge(before, PURGE_BATCH)
        purged += ids.length
        if (ids.length < PURGE_BATCH) return purged
      }
    },
  }
}
