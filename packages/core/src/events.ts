/**
 * Typed events. `verification` fires once per `verify` with the outcome — never the token or its
 * hash; lifecycle events carry the public record. Listeners run synchronously: keep them cheap,
 * and a throwing listener is isolated so it can never fail a request.
 */
import type { AbuseEvent } from './abuse/abuse-model.ts'
import type { KeyRecord, OwnerRecord } from './types.ts'
import type { VerifyCode } from './verify-codes.ts'

export interface VerificationEvent {
  type: 'verification'
  valid: boolean
  /** `VALID` on success, else the `VerifyCode`. */
  code: VerifyCode | 'VALID'
  /** Known once the token parsed (the id is public), even when the key was not found. */
  keyId: string | null
  /** Known once the key's secret matched. */
  ownerId: string | null
  /** Credits this request spent. */
  cost: number
  timestamp: number
}

export interface KeyLifecycleEvent {
  type: 'key.created' | 'key.updated' | 'key.revoked' | 'key.rotated' | 'key.deleted'
  /** The record after the change (for `key.deleted`, as it was). */
  key: KeyRecord
  /** For `key.rotated`: the successor's record. */
  successor?: KeyRecord
  /** Who acted, as the caller said (`{ actor }` of the lifecycle call); `null` when not given. */
  actor: string | null
  /** Why, as the caller said; `null` when not given. */
  reason: string | null
  timestamp: number
}

/**
 * The brute-force guard blocked a client network: it sent `failures` invalid keys within the
 * guard's window. Emitted by the process that decided the block (with a shared store, each block
 * reaches every process, but is announced here once — rarely twice, when two processes decide it
 * at the same moment). The signal for abuse monitoring.
 */
export interface GuardBlockedEvent {
  type: 'guard.blocked'
  /** An IPv4 address, or the IPv6 `/ipv6Prefix` network, e.g. `2001:db8:1:2::/64`. */
  network: string
  /** When the block ends, epoch ms. */
  until: number
  /** Failed attempts counted when it was blocked (across processes with a shared store). */
  failures: number
  timestamp: number
}

export interface OwnerLifecycleEvent {
  type: 'owner.set' | 'owner.updated' | 'owner.deleted'
  /** The owner after the change (for `owner.deleted`, as it was). */
  owner: OwnerRecord
  actor: string | null
  reason: string | null
  timestamp: number
}

/**
 * Usage counts that could not be kept: the pending buffer was full (`usage.maxPending`) while the
 * store could not be written, or the store was unreachable when keyward closed.
 */
export interface UsageDroppedEvent {
  type: 'usage.dropped'
  /** Verifications whose counts were dropped since the last report. */
  verifications: number
  /** Entries of the verification log (a store's stream sink) dropped since the last report. */
  logEntries: number
  timestamp: number
}

/** One flush of this process's pending usage to the store. */
export interface UsageFlushEvent {
  type: 'usage.flush'
  ok: boolean
  /** Store writes made. */
  batches: number
  /** Verifications those writes counted. */
  verifications: number
  /** Entries still pending afterwards. */
  pending: number
  durationMs: number
  /** Why the flush failed (a `StoreError`, usually). */
  error?: unknown
  timestamp: number
}

export interface KeywardEvents {
  verification: VerificationEvent
  'key.created': KeyLifecycleEvent
  'key.updated': KeyLifecycleEvent
  'key.revoked': KeyLifecycleEvent
  'key.rotated': KeyLifecycleEvent
  'key.deleted': KeyLifecycleEvent
  'guard.blocked': GuardBlockedEvent
  'owner.set': OwnerLifecycleEvent
  'owner.updated': OwnerLifecycleEvent
  'owner.deleted': OwnerLifecycleEvent
  'usage.dropped': UsageDroppedEvent
  'usage.flush': UsageFlushEvent
  /**
   * An abuse signal fired (`kind`: `wrong-secret`, `many-networks`, `spike`, `failed-burst`): once
   * per key (or address) per window, in one process of those sharing the store.
   */
  abuse: AbuseEvent
  /**
   * A listener threw, or a background task failed (`event` names it, e.g. `purge`): reported here
   * instead of reaching a request or becoming an unhandled rejection.
   */
  error: { error: unknown; event: string }
}

export type KeywardEventName = keyof KeywardEvents

type Listener<E extends KeywardEventName> = (event: KeywardEvents[E]) => void

export class KeywardEmitter {
  private readonly listeners = new Map<KeywardEventName, Set<Listener<never>>>()

  on<E extends KeywardEventName>(name: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(name)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(name, set)
    }
    set.add(listener as Listener<never>)
    return () => this.off(name, listener)
  }

  once<E extends KeywardEventName>(name: E, listener: Listener<E>): () => void {
    const off = this.on(name, (event) => {
      off()
      listener(event)
    })
    return off
  }

  off<E extends KeywardEventName>(name: E, listener: Listener<E>): void {
    this.listeners.get(name)?.delete(listener as Listener<never>)
  }

  /** True when someone listens: lets the hot path skip building events nobody reads. */
  has(name: KeywardEventName): boolean {
    const set = this.listeners.get(name)
    return set !== undefined && set.size > 0
  }

  emit<E extends KeywardEventName>(name: E, event: KeywardEvents[E]): void {
    const set = this.listeners.get(name)
    if (set === undefined) return
    for (const listener of set) {
      try {
        const returned: unknown = (listener as Listener<E>)(event)
        // An async listener's rejection would otherwise be unhandled and could end the process.
        if (returned instanceof Promise)
          returned.catch((error: unknown) => this.reportListenerError(name, error))
      } catch (error) {
        this.reportListenerError(name, error)
      }
    }
  }

  private reportListenerError(name: KeywardEventName, error: unknown): void {
    if (name !== 'error' && this.has('error')) this.emit('error', { error, event: name })
  }

  removeAll(): void {
    this.listeners.clear()
  }
}

/**
 * Emits a `verification` event, building it only when someone listens (the hot path pays nothing
 * otherwise). Called by the Keyward's one reporting path (`recordVerification`), which also
 * counts the outcome for usage.
 */
export function emitVerification(
  events: KeywardEmitter,
  timestamp: number,
  code: VerifyCode | 'VALID',
  keyId: string | null,
  ownerId: string | null,
  cost: number,
): void {
  if (!events.has('verification')) return
  events.emit('verification', {
    type: 'verification',
    valid: code === 'VALID',
    code,
    keyId,
    ownerId,
    cost,
    timestamp,
  })
}
