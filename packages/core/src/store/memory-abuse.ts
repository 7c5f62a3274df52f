/**
 * Abuse-signal state in process, for `MemoryStore` (docs/architecture.md, "Abuse signals"):
 * counters, sets, per-minute request counts and claims in `Map`s, each entry dropped once past
 * its `expiresAt` (swept at most once a minute); histories as bounded arrays, at most
 * `MAX_HISTORIES` of them (the least recently written goes first).
 */
import type { AbuseEvent } from '../abuse/abuse-model.ts'
import type {
  AbuseHistoryLimits,
  AbuseHistoryQuery,
  AbuseState,
  AbuseTally,
  AbuseTallyResult,
  AbuseWindow,
} from './abuse-interface.ts'

/** Histories kept (one per key with events, plus the installation's). */
const MAX_HISTORIES = 10_000
const SWEEP_MS = 60_000
const INSTALLATION = ''

interface Expiring<T> {
  value: T
  expiresAt: number
}

interface History {
  events: AbuseEvent[]
  expiresAt: number
}

function windowId(window: AbuseWindow): string {
  return `${window.signal}\n${window.subject}\n${window.windowStart}`
}

export class MemoryAbuse implements AbuseState {
  private readonly counts = new Map<string, Expiring<number>>()
  private readonly sets = new Map<string, Expiring<Set<string>>>()
  /** Per key: requests per minute start. */
  private readonly rates = new Map<string, Expiring<Map<number, number>>>()
  private readonly claims = new Map<string, number>()
  private readonly histories = new Map<string, History>()
  private sweptAt = Number.NEGATIVE_INFINITY

  async tally(tally: AbuseTally): Promise<AbuseTallyResult> {
    const { now } = tally
    this.sweep(now)
    const result: AbuseTallyResult = { counts: [], sets: [], rates: [] }
    for (const increment of tally.counts) {
      const id = windowId(increment)
      const entry = live(this.counts.get(id), now) ?? { value: 0, expiresAt: increment.expiresAt }
      entry.value += increment.amount
      entry.expiresAt = Math.max(entry.expiresAt, increment.expiresAt)
      this.counts.set(id, entry)
      result.counts.push(entry.value)
    }
    for (const increment of tally.sets) {
      const id = windowId(increment)
      const entry = live(this.sets.get(id), now) ?? { value: new Set(), expiresAt: increment.expiresAt }
      for (const member of increment.members) entry.value.add(member)
      entry.expiresAt = Math.max(entry.expiresAt, increment.expiresAt)
      this.sets.set(id, entry)
      result.sets.push(entry.value.size)
    }
    for (const increment of tally.rates) {
      const entry = live(this.rates.get(increment.keyId), now) ?? {
        value: new Map<number, number>(),
        expiresAt: increment.expiresAt,
      }
      const minutes = entry.value
      const total = (minutes.get(increment.minute) ?? 0) + increment.amount
      minutes.set(increment.minute, total)
      entry.expiresAt = Math.max(entry.expiresAt, increment.expiresAt)
      this.rates.set(increment.keyId, entry)
      let baseline: number | null = null
      if (increment.baselineFrom !== null) {
        baseline = 0
        for (const [minute, count] of minutes) {
          if (minute >= increment.baselineFrom && minute < increment.minute) baseline += count
          // Older than any baseline still asked for: forget it.
          else if (minute < increment.baselineFrom) minutes.delete(minute)
        }
      }
      result.rates.push({ total, baseline })
    }
    return result
  }

  async claim(windows: readonly AbuseWindow[], now: number): Promise<boolean[]> {
    return windows.map((window) => {
      const id = windowId(window)
      const until = this.claims.get(id)
      if (until !== undefined && until > now) return false
      this.claims.set(id, window.expiresAt)
      return true
    })
  }

  async remember(event: AbuseEvent, limits: AbuseHistoryLimits, now: number): Promise<void> {
    if ('keyId' in event) this.push(event.keyId, event, limits, now)
    this.push(INSTALLATION, event, limits, now)
  }

  async recent(query: AbuseHistoryQuery): Promise<AbuseEvent[]> {
    const history = this.histories.get(query.keyId ?? INSTALLATION)
    if (history === undefined) return []
    return history.events.filter((event) => event.timestamp >= query.since).slice(0, query.limit)
  }

  private push(subject: string, event: AbuseEvent, limits: AbuseHistoryLimits, now: number): void {
    let history = this.histories.get(subject)
    if (history === undefined || history.expiresAt <= now) history = { events: [], expiresAt: 0 }
    // Re-inserted, so the Map's first entry is always the least recently written.
    this.histories.delete(subject)
    // A copy: a listener that changes the emitted event does not change the history.
    history.events.unshift({ ...event })
    if (history.events.length > limits.size) history.events.length = limits.size
    history.expiresAt = now + limits.retentionMs
    this.histories.set(subject, history)
    if (this.histories.size > MAX_HISTORIES) {
      const oldest = this.histories.keys().next()
      if (!oldest.done) this.histories.delete(oldest.value)
    }
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_MS) return
    this.sweptAt = now
    for (const map of [this.counts, this.sets, this.rates] as Map<string, Expiring<unknown>>[]) {
      for (const [id, entry] of map) if (entry.expiresAt <= now) map.delete(id)
    }
    for (const [id, until] of this.claims) if (until <= now) this.claims.delete(id)
    for (const [id, history] of this.histories) if (history.expiresAt <= now) this.histories.delete(id)
  }
}

function live<T>(entry: Expiring<T> | undefined, now: number): Expiring<T> | undefined {
  return entry !== undefined && entry.expiresAt > now ? entry : undefined
}
