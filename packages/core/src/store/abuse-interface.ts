/**
 * What a store keeps for abuse signals (docs/architecture.md, "Abuse signals"): counters and sets
 * per signal, subject and window that every process adds to, each key's requests per minute with
 * the sum of the minutes before, one-time claims (so exactly one process emits a signal per
 * window), and a short history of the events emitted. keyward aggregates in process and calls
 * `tally` once per interval, off the request path; the store only adds up and answers.
 */
import type { AbuseEvent, AbuseKind } from '../abuse/abuse-model.ts'

/** One signal's window for one subject (a key id, or a client network for `failed-burst`). */
export interface AbuseWindow {
  signal: AbuseKind
  subject: string
  /** Start of the window, epoch ms. */
  windowStart: number
  /** The window's state may be dropped from this time on (epoch ms, keyward's clock). */
  expiresAt: number
}

/** Adds `amount` to the window's counter. */
export interface AbuseCountIncrement extends AbuseWindow {
  amount: number
}

/** Adds `members` to the window's set (distinct values, e.g. client networks). */
export interface AbuseSetIncrement extends AbuseWindow {
  members: readonly string[]
}

/** Adds `amount` requests to a key's count for one minute. */
export interface AbuseRateIncrement {
  keyId: string
  /** Start of the minute, epoch ms. */
  minute: number
  amount: number
  /**
   * Also answer the sum of the key's minutes in `[baselineFrom, minute)`; `null` when not needed
   * (keyward remembers it for the rest of the minute).
   */
  baselineFrom: number | null
  /** The key's per-minute counts may be dropped from this time on (a baseline's span after `minute`). */
  expiresAt: number
}

/** One interval's observations of one process. */
export interface AbuseTally {
  /** keyward's clock, epoch ms: relative expiries are taken from it. */
  now: number
  counts: readonly AbuseCountIncrement[]
  sets: readonly AbuseSetIncrement[]
  rates: readonly AbuseRateIncrement[]
}

/** Totals after the tally, counted by every process, in the order of the tally's lists. */
export interface AbuseTallyResult {
  /** Each counter's total in its window. */
  counts: number[]
  /** Each set's size in its window. */
  sets: number[]
  /** Each minute's total, and the baseline sum when one was asked for (else `null`). */
  rates: { total: number; baseline: number | null }[]
}

/** Recent abuse events to read back: a key's, or (`keyId: null`) every one of the installation. */
export interface AbuseHistoryQuery {
  keyId: string | null
  limit: number
  /** Only events with `timestamp` at or after this (epoch ms). */
  since: number
}

/** How many events each history keeps, and for how long. */
export interface AbuseHistoryLimits {
  /** Most events kept per key (and for the installation). */
  size: number
  /** A history untouched for this long may be dropped, in ms. */
  retentionMs: number
}

export interface AbuseState {
  /**
   * Adds one process's observations and answers the totals of every process. Counters and sets
   * are kept until their `expiresAt`.
   */
  tally(tally: AbuseTally): Promise<AbuseTallyResult>
  /**
   * Claims each window: `true` for exactly one caller per window until its `expiresAt`, whichever
   * process asks first; `false` for everyone after.
   */
  claim(windows: readonly AbuseWindow[], now: number): Promise<boolean[]>
  /** Adds an event to its key's history (when it names one) and to the installation's, newest first. */
  remember(event: AbuseEvent, limits: AbuseHistoryLimits, now: number): Promise<void>
  /** Recent events, newest first, at most `limit`. */
  recent(query: AbuseHistoryQuery): Promise<AbuseEvent[]>
}
