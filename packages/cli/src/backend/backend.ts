/**
 * What the commands need from wherever keys live — Redis directly, or a running admin API — as one
 * interface, so every command is written once and both backends answer it alike. Values are in
 * their JSON shape (times as ISO strings): what `--json` prints, and what the admin API sends.
 */
import type {
  CreateKeyInput,
  KeyRecord,
  OwnerInput,
  OwnerRecord,
  UsageGranularity,
  UsageReport,
} from '@keyward/core'

/** A value as JSON carries it: `Date`s become ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer Item)[]
    ? Json<Item>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T

/** A key record, without secret or hash. `lastUsedAt` where the backend tracks usage. */
export type KeyView = Json<KeyRecord> & { lastUsedAt?: string | null }

export type OwnerView = Json<OwnerRecord>

/** A key just made: the plaintext `key` appears here and nowhere else. */
export interface CreatedKeyView {
  key: string
  record: KeyView
}

export interface RotatedKeyView extends CreatedKeyView {
  /** The replaced key: revoked, or expiring at the end of its grace period. */
  previous: KeyView
}

export interface KeyPage {
  items: KeyView[]
  /** Pass to the next call for the next page; `null` on the last page. */
  cursor: string | null
}

/** Who changes something and why: the lifecycle event records both. */
export interface Audit {
  actor: string
  reason?: string
}

export interface ListKeysQuery {
  ownerId: string
  limit?: number
  cursor?: string
}

export interface RotateKeyOptions extends Audit {
  gracePeriodMs: number
  expiresAt?: Date
}

/** Whose usage: one key (every outcome once its token parsed) or an owner (all of its keys). */
export type UsageTarget = { keyId: string } | { ownerId: string }

export interface UsageRange {
  from: Date
  to: Date
  granularity: UsageGranularity
}

/** `keyward.usage.get`'s report: every bucket of the range, oldest first, empty ones too. */
export type UsageView = Json<UsageReport>

export interface Backend {
  /** Where it talks to, for messages: `redis://127.0.0.1:6379` (never a password), an API URL. */
  readonly location: string
  createKey(input: CreateKeyInput, audit: Audit): Promise<CreatedKeyView>
  listKeys(query: ListKeysQuery): Promise<KeyPage>
  /** `null` for an unknown id. */
  getKey(id: string): Promise<KeyView | null>
  revokeKey(id: string, audit: Audit): Promise<KeyView>
  rotateKey(id: string, options: RotateKeyOptions): Promise<RotatedKeyView>
  deleteKey(id: string, audit: Audit): Promise<KeyView>
  /** `null` for an owner without a record. */
  getOwner(id: string): Promise<OwnerView | null>
  setOwner(id: string, input: OwnerInput, audit: Audit): Promise<OwnerView>
  deleteOwner(id: string, audit: Audit): Promise<OwnerView>
  usage(target: UsageTarget, range: UsageRange): Promise<UsageView>
  /** Releases connections; safe to call twice. */
  close(): Promise<void>
}
