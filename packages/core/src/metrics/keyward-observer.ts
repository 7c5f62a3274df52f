/**
 * What a metrics integration observes of a keyward instance, once for every backend
 * (docs/architecture.md, "Metrics"): the events it listens to — `verification` (by code),
 * `usage.flush` (outcome and duration), `abuse` (by kind), `error` (a `StoreError` from a
 * background task) — and the readings it takes at collection time from `usage.stats()`,
 * `abuse.stats()` and the store's optional `cacheStats()`. Prometheus and OpenTelemetry only
 * map these onto their instruments.
 */
import type { AbuseKind } from '../abuse/abuse-model.ts'
import { StoreError } from '../errors.ts'
import type { Keyward } from '../keyward/create-keyward.ts'
import type { UsageOutcome } from '../usage/usage-model.ts'

/** Where a store error happened: `verify` (answered `UNAVAILABLE`), `usage` (a flush), a background task. */
export type StoreErrorOperation = 'verify' | 'usage' | 'abuse' | 'purge' | (string & {})

/** What an integration does with each observation. */
export interface KeywardMetricsSink {
  verification(code: UsageOutcome): void
  usageFlush(ok: boolean, durationSeconds: number): void
  abuse(kind: AbuseKind): void
  storeError(operation: StoreErrorOperation): void
}

/** Readings taken at collection time. */
export interface KeywardReadings {
  /** Usage entries waiting to be written. */
  usagePending: number
  /**
   * Seconds since the last successful usage flush while counts are pending (since the readings
   * began when none has succeeded yet); 0 when nothing is pending.
   */
  usageFlushLagSeconds: number
  usageDroppedVerifications: number
  usageDroppedLogEntries: number
  /** Requests whose abuse observation was dropped (bound reached, or a failed flush). */
  abuseDroppedObservations: number
  /** The store's record cache, when it has one (`RedisStore`). */
  cache: { hits: number; misses: number; size: number } | null
}

/**
 * Calls `sink` for everything `keyward` reports from now on. Returns a function that stops it.
 * Store errors inside `verify` are the `UNAVAILABLE` outcomes; in background tasks, the `error`
 * events whose error is a `StoreError` (event `abuse`, `abuse.history`, `purge`, …).
 */
export function observeKeyward(keyward: Keyward, sink: KeywardMetricsSink): () => void {
  const { events } = keyward
  const stops = [
    events.on('verification', (event) => {
      sink.verification(event.code)
      if (event.code === 'UNAVAILABLE') sink.storeError('verify')
    }),
    events.on('usage.flush', (event) => {
      sink.usageFlush(event.ok, event.durationMs / 1000)
      if (!event.ok) sink.storeError('usage')
    }),
    events.on('abuse', (event) => sink.abuse(event.kind)),
    events.on('error', (event) => {
      if (event.error instanceof StoreError) sink.storeError(event.event.split('.')[0] ?? event.event)
    }),
  ]
  return () => {
    for (const stop of stops) stop()
  }
}

/** A reader of `KeywardReadings`; the flush lag counts from when it was made. */
export function keywardReadings(keyward: Keyward): () => KeywardReadings {
  const since = keyward.now()
  return () => {
    const usage = keyward.usage.stats()
    const now = keyward.now()
    return {
      usagePending: usage.pending,
      usageFlushLagSeconds: usage.pending === 0 ? 0 : Math.max(0, now - (usage.lastFlushAt ?? since)) / 1000,
      usageDroppedVerifications: usage.droppedVerifications,
      usageDroppedLogEntries: usage.droppedLogEntries,
      abuseDroppedObservations: keyward.abuse.stats().droppedObservations,
      cache: keyward.store.cacheStats?.() ?? null,
    }
  }
}
