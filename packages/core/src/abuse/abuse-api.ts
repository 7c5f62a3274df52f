/**
 * `keyward.abuse` (docs/architecture.md, "Abuse signals"): the recent events read back from the
 * store, and this process's monitoring — flush it now, read its counters.
 */
import type { AbuseState } from '../store/abuse-interface.ts'
import { argumentError, checkInteger, checkObject, checkString } from '../validation.ts'
import { ABUSE_KINDS, type AbuseEvent, type AbuseKind } from './abuse-model.ts'
import type { AbuseMonitor } from './abuse-monitor.ts'
import type { AbuseConfig } from './abuse-options.ts'

/** What `keyward.abuse.stats()` reports about this process's abuse monitoring. */
export interface AbuseStats {
  /** Key entries (a key's observations in one minute) waiting for the next flush. */
  pending: number
  /** Requests whose observation was dropped: `maxKeys` entries were held, or their flush failed. */
  droppedObservations: number
  /** Successful flushes. */
  flushes: number
  /** Flushes (tallies or claims) the store refused. */
  flushErrors: number
  /** keyward's clock at the last successful flush, epoch ms, or `null`. */
  lastFlushAt: number | null
  /** `abuse` events this process emitted since start, per kind. */
  events: Record<AbuseKind, number>
}

/** `keyward.abuse`. */
export interface KeywardAbuse {
  /**
   * Recent abuse events, newest first: a key's (`keyId`), or every one of the installation
   * (including `failed-burst`, which names no key). Kept `abuse.history.size` per key for
   * `abuse.history.retentionMs`. @example await keyward.abuse.recent({ keyId, limit: 10 })
   */
  recent(query?: { keyId?: string; limit?: number }): Promise<AbuseEvent[]>
  /** Adds this process's observations up in the store and evaluates the signals now. */
  flush(): Promise<void>
  stats(): AbuseStats
}

/** Events per kind, all zero. */
export function noEvents(): Record<AbuseKind, number> {
  return Object.fromEntries(ABUSE_KINDS.map((kind) => [kind, 0])) as Record<AbuseKind, number>
}

const NO_STATS = { pending: 0, droppedObservations: 0, flushes: 0, flushErrors: 0, lastFlushAt: null }

/** `keyward.abuse`, reading the history from `state`; `monitor` is `null` with `abuse: false`. */
export function createAbuseApi(
  state: AbuseState | null,
  config: AbuseConfig,
  now: () => number,
  monitor: AbuseMonitor | null,
): KeywardAbuse {
  return {
    async recent(query = {}) {
      checkObject('query', query, argumentError)
      const keyId = query.keyId === undefined ? null : checkString('keyId', query.keyId, { min: 1, max: 128 })
      const limit =
        query.limit === undefined
          ? 20
          : checkInteger('limit', query.limit, { min: 1, max: 1000 }, argumentError)
      if (state === null) return []
      return state.recent({ keyId, limit, since: now() - config.history.retentionMs })
    },
    async flush() {
      await monitor?.flush()
    },
    stats() {
      return monitor?.stats() ?? { ...NO_STATS, events: noEvents() }
    },
  }
}
