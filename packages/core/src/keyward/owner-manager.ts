/**
 * The owner manager behind `keyward.owners`: an owner (a customer, an organisation) carries rate
 * limits and a credit pool shared by all of its keys. A request passes only when its key's limits
 * and its owner's limits all pass; credits come from the key's pool when it has one, else the
 * owner's. Every change emits an owner lifecycle event with who acted and why.
 */
import { OwnerNotFoundError } from '../errors.ts'
import type { KeywardEmitter, OwnerLifecycleEvent } from '../events.ts'
import { resolvePolicies } from '../policies.ts'
import { toOwnerRecord } from '../records.ts'
import type { OwnerChanges } from '../store/interface.ts'
import type { CreditsInput, OwnerRecord, RateLimitPolicy, StoredOwner } from '../types.ts'
import { argumentError, checkKnownFields, checkObject } from '../validation.ts'
import {
  type Audit,
  type AuditOptions,
  checkAudit,
  checkCredits,
  checkMeta,
  checkOwnerId,
} from './key-input.ts'
import type { KeywardConfig } from './options.ts'

export interface OwnerInput {
  /** Policies shared by all the owner's keys (named `owner`, or `owner-<points>-per-<duration>s`). */
  rateLimit?: RateLimitPolicy | RateLimitPolicy[] | null
  /** A credit pool for the owner's keys that have none of their own. */
  credits?: CreditsInput | null
  meta?: Record<string, unknown>
}

export interface OwnerManager {
  /** Creates or replaces the owner (its credit pool is set to `credits`, or removed). */
  set(ownerId: string, input: OwnerInput, options?: AuditOptions): Promise<OwnerRecord>
  get(ownerId: string): Promise<OwnerRecord | null>
  /** Changes the given fields only (new `credits` reset the pool); `OwnerNotFoundError` when none. */
  update(ownerId: string, patch: OwnerInput, options?: AuditOptions): Promise<OwnerRecord>
  /** Removes the owner and its pool; its keys stay, limited by their own settings only. */
  delete(ownerId: string, options?: AuditOptions): Promise<OwnerRecord>
}

const OWNER_FIELDS: ReadonlySet<string> = new Set(['rateLimit', 'credits', 'meta'])
const OWNER_NAMING = { single: 'owner', prefix: 'owner-' }

function checkOwnerPolicies(value: unknown): StoredOwner['rateLimit'] {
  if (value === undefined || value === null) return null
  return resolvePolicies('rateLimit', value as RateLimitPolicy, OWNER_NAMING, argumentError)
}

export function createOwnerManager(config: KeywardConfig, events: KeywardEmitter): OwnerManager {
  const { store, now } = config

  function emit(type: OwnerLifecycleEvent['type'], owner: OwnerRecord, audit: Audit, at: number): void {
    events.emit(type, { type, owner, actor: audit.actor, reason: audit.reason, timestamp: at })
  }

  function checkInput(input: unknown, name: string): OwnerInput {
    checkObject(name, input, argumentError)
    checkKnownFields('', input as object, OWNER_FIELDS)
    return input as OwnerInput
  }

  return {
    async set(ownerId, input, options) {
      checkOwnerId(ownerId)
      checkInput(input, 'input')
      const audit = checkAudit(options)
      const at = now()
      const existing = await store.getOwner(ownerId)
      const owner: StoredOwner = {
        id: ownerId,
        rateLimit: checkOwnerPolicies(input.rateLimit),
        credits: input.credits == null ? null : checkCredits(input.credits, at),
        meta: checkMeta(input.meta),
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
      }
      await store.putOwner(owner)
      const view = toOwnerRecord(owner)
      emit('owner.set', view, audit, at)
      return view
    },

    async get(ownerId) {
      if (typeof ownerId !== 'string') return null
      const owner = await store.getOwner(ownerId)
      return owner === null ? null : toOwnerRecord(owner)
    },

    async update(ownerId, patch, options) {
      checkOwnerId(ownerId)
      checkInput(patch, 'patch')
      const audit = checkAudit(options)
      const at = now()
      const changes: OwnerChanges = { updatedAt: at }
      if (patch.rateLimit !== undefined) changes.rateLimit = checkOwnerPolicies(patch.rateLimit)
      if (patch.credits !== undefined)
        changes.credits = patch.credits === null ? null : checkCredits(patch.credits, at)
      if (patch.meta !== undefined) changes.meta = checkMeta(patch.meta)
      const updated = await store.updateOwner(ownerId, changes)
      if (updated === null) throw new OwnerNotFoundError(ownerId)
      const view = toOwnerRecord(updated)
      emit('owner.updated', view, audit, at)
      return view
    },

    async delete(ownerId, options) {
      checkOwnerId(ownerId)
      const audit = checkAudit(options)
      const removed = await store.deleteOwner(ownerId)
      if (removed === null) throw new OwnerNotFoundError(ownerId)
      const view = toOwnerRecord(removed)
      emit('owner.deleted', view, audit, now())
      return view
    },
  }
}
