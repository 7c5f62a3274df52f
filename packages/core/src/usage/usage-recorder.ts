/**
 * Counts verifications off the request path (docs/architecture.md, Usage). `record` only bumps a
 * counter per key, owner and minute in a `Map` (a new counter is the only allocation, plus one
 * log entry per verification when the store keeps a log); a timer flushes the counters to the
 * store every `flushIntervalMs`, in batches of `batchSize`, so a verification never waits for
 * the store.
 *
 * A batch that fails is kept as it was (same `sequence`) and sent again before anything newer:
 * the store skips what it already applied of it, so a retry after an unknown outcome counts once.
 * While batches wait, new counts keep aggregating. Everything held — waiting batches, counters,
 * log entries — is bounded by `maxPending`: past it the oldest go first (waiting batches, then
 * log entries, then counters of the oldest minute), and what was dropped is reported by a
 * `usage.dropped` event at the next flush and in `stats()`.
 */
import { randomUUID } from 'node:crypto'
import type { KeywardEmitter } from '../events.ts'
import { SerialRuns } from '../serial-runs.ts'
import type { KeyStore } from '../store/interface.ts'
import type { UsageBatch, UsageLogEntry } from '../store/usage-interface.ts'
import { buildUsageBatch, type MinuteCounter, verificationsOf } from './usage-batch.ts'
import { OUTCOME_INDEX, USAGE_OUTCOMES, type UsageOutcome } from './usage-model.ts'
import type { UsageConfig } from './usage-options.ts'

const MINUTE_MS = 60_000

/** What `keyward.usage.stats()` reports about this process's recording. */
export interface UsageStats {
  /** Entries waiting to be written: aggregated counters (and log entries, with a logging store). */
  pending: number
  /** Verifications whose counts were dropped since start (buffer full, or store down at close). */
  droppedVerifications: number
  /** Verification-log entries dropped since start. */
  droppedLogEntries: number
  /** Successful flushes. */
  flushes: number
  /** Failed flushes (their batches are retried). */
  flushErrors: number
  /** keyward's clock at the last successful flush, epoch ms, or `null`. */
  lastFlushAt: number | null
}

interface Counter extends MinuteCounter {
  /** A counter of the same key id and minute with another owner id (`null` vs the owner). */
  next: Counter | undefined
}

interface Waiting {
  batch: UsageBatch
  /** Entries it holds toward `maxPending`. */
  weight: number
  verifications: number
  logEntries: number
  /** Being written now: it must not be dropped, or a write that succeeds would be reported lost. */
  inFlight: boolean
}

export class UsageRecorder {
  private readonly origin = randomUUID()
  private readonly logging: boolean
  private sequence = 0
  /** Pending counters per minute start, then per key id (`''` for none). */
  private minutes = new Map<number, Map<string, Counter>>()
  private currentMinute = Number.NaN
  private current: Map<string, Counter> = new Map()
  private counters = 0
  private log: UsageLogEntry[] = []
  private logHead = 0
  /** When a last-used time was last queued per key, to write it at most once per interval. */
  private readonly touched = new Map<string, number>()
  private touches = new Map<string, number>()
  private readonly waiting: Waiting[] = []
  private waitingWeight = 0
  private unreported = { verifications: 0, logEntries: 0 }
  private readonly totals = { droppedVerifications: 0, droppedLogEntries: 0, flushes: 0, flushErrors: 0 }
  private lastFlushAt: number | null = null
  private readonly flushes = new SerialRuns()
  private healthy = true
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor(
    private readonly store: KeyStore,
    private readonly config: UsageConfig,
    private readonly now: () => number,
    private readonly events: KeywardEmitter,
  ) {
    this.logging = store.usageLog === true
  }

  /** Counts one verification. Synchronous, no store access. */
  record(code: UsageOutcome, keyId: string | null, ownerId: string | null, cost: number, at: number): void {
    if (this.closed) return
    const counter = this.counterOf(keyId, ownerId, at)
    counter.counts[OUTCOME_INDEX[code]]!++
    counter.credits += cost
    if (ownerId !== null && keyId !== null) this.touch(keyId, at)
    if (this.logging) this.append({ keyId, ownerId, code, cost, timestamp: at })
    if (this.timer === null) this.start()
  }
  /**
   * Credits a request already counted spent on top (a nested `apiKeyAuth` topping up its cost):
   * added to the key's credits without counting another request.
   */
  addCredits(keyId: string, ownerId: string, cost: number, at: number): void {
    if (this.closed || cost === 0) return
    this.counterOf(keyId, ownerId, at).credits += cost
    if (this.timer === null) this.start()
  }

  private counterOf(keyId: string | null, ownerId: string | null, at: number): Counter {
    let counters = this.current
    if (!(at >= this.currentMinute && at < this.currentMinute + MINUTE_MS)) counters = this.useMinute(at)
    const slot = keyId ?? ''
    let counter = counters.get(slot)
    while (counter !== undefined && counter.ownerId !== ownerId) counter = counter.next
    return counter ?? this.addCounter(at, slot, keyId, ownerId)
  }

  /** This process's latest recorded use of `keyId` not yet guaranteed to be in the store. */
  pendingLastUsed(keyId: string): number | undefined {
    return this.touched.get(keyId)
  }

  /**
   * Writes everything pending. Rejects (with the store's error) when the store cannot be written;
   * the counts stay pending. Calls made during a flush run after it, so each covers everything
   * recorded before it was called.
   */
  flush(): Promise<void> {
    return this.flushes.run(() => this.flushOnce())
  }

  stats(): UsageStats {
    return { pending: this.weight(), ...this.totals, lastFlushAt: this.lastFlushAt }
  }

  /** Stops recording and flushes; what cannot be written is reported as dropped. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    try {
      await this.flush()
    } catch {
      this.dropEverything()
    }
    this.reportDrops()
  }

  // ——— recording ———

  private useMinute(at: number): Map<string, Counter> {
    const minute = at - (((at % MINUTE_MS) + MINUTE_MS) % MINUTE_MS)
    let counters = this.minutes.get(minute)
    if (counters === undefined) {
      counters = new Map()
      this.minutes.set(minute, counters)
    }
    this.currentMinute = minute
    this.current = counters
    return counters
  }

  private addCounter(at: number, slot: string, keyId: string | null, ownerId: string | null): Counter {
    while (this.weight() >= this.config.maxPending && this.dropOldest()) {}
    // Dropping may have emptied (and removed) this minute's map: look it up again.
    const counters = this.useMinute(at)
    const counter: Counter = {
      keyId,
      ownerId,
      minute: this.currentMinute,
      counts: USAGE_OUTCOMES.map(() => 0),
      credits: 0,
      next: counters.get(slot),
    }
    counters.set(slot, counter)
    this.counters++
    this.flushEarlyWhenFull()
    return counter
  }

  private touch(keyId: string, at: number): void {
    const last = this.touched.get(keyId)
    if (last !== undefined && at - last < this.config.lastUsedIntervalMs) return
    this.touched.set(keyId, at)
    this.touches.set(keyId, at)
  }

  private append(entry: UsageLogEntry): void {
    while (this.weight() >= this.config.maxPending && this.dropOldest()) {}
    this.log.push(entry)
    this.flushEarlyWhenFull()
  }

  /** A full batch is waiting: write it now rather than at the next tick, while the store is healthy. */
  private flushEarlyWhenFull(): void {
    if (!this.healthy || this.flushes.busy) return
    if (this.counters + this.log.length - this.logHead < this.config.batchSize) return
    this.flushes
      .run(
        () => this.flushOnce(),
        () => new Promise<void>((resolve) => setImmediate(resolve)),
      )
      .catch(() => {})
  }

  private start(): void {
    this.timer = setInterval(() => {
      if (!this.flushes.busy) this.flush().catch(() => {})
    }, this.config.flushIntervalMs)
    // Recording must never keep a process alive; close() flushes what is left.
    this.timer.unref()
  }

  // ——— the bound ———

  private weight(): number {
    return this.counters + (this.log.length - this.logHead) + this.waitingWeight
  }

  /** Drops the oldest entry held; false when nothing can be dropped. */
  private dropOldest(): boolean {
    const batch = this.waiting.findIndex((entry) => !entry.inFlight)
    if (batch !== -1) {
      const [entry] = this.waiting.splice(batch, 1)
      if (entry === undefined) return false
      this.waitingWeight -= entry.weight
      this.dropped(entry.verifications, entry.logEntries)
      return true
    }
    if (this.logHead < this.log.length) {
      this.log[this.logHead++] = undefined as unknown as UsageLogEntry
      // Compact now and then, so dropped entries do not pile up at the head while the store is down.
      if (this.logHead >= 1024 && this.logHead * 2 >= this.log.length) {
        this.log = this.log.slice(this.logHead)
        this.logHead = 0
      }
      this.dropped(0, 1)
      return true
    }
    for (const [minute, counters] of this.minutes) {
      for (const [slot, counter] of counters) {
        if (counter.next === undefined) counters.delete(slot)
        else counters.set(slot, counter.next)
        if (counters.size === 0) {
          this.minutes.delete(minute)
          if (minute === this.currentMinute) this.currentMinute = Number.NaN
        }
        this.counters--
        this.dropped(verificationsOf(counter), 0)
        return true
      }
      this.minutes.delete(minute)
      if (minute === this.currentMinute) this.currentMinute = Number.NaN
    }
    return false
  }

  private dropped(verifications: number, logEntries: number): void {
    this.unreported.verifications += verifications
    this.unreported.logEntries += logEntries
    this.totals.droppedVerifications += verifications
    this.totals.droppedLogEntries += logEntries
  }

  private dropEverything(): void {
    for (const entry of this.waiting.splice(0)) this.dropped(entry.verifications, entry.logEntries)
    this.waitingWeight = 0
    const { counters, log } = this.takePending()
    let verifications = 0
    for (const counter of counters) verifications += verificationsOf(counter)
    this.dropped(verifications, log.length)
  }

  private reportDrops(): void {
    const { verifications, logEntries } = this.unreported
    if (verifications === 0 && logEntries === 0) return
    this.unreported = { verifications: 0, logEntries: 0 }
    if (!this.events.has('usage.dropped')) return
    this.events.emit('usage.dropped', {
      type: 'usage.dropped',
      verifications,
      logEntries,
      timestamp: this.now(),
    })
  }

  // ——— flushing ———

  private async flushOnce(): Promise<void> {
    const started = performance.now()
    const now = this.now()
    this.reportDrops()
    const sent = { batches: 0, verifications: 0 }
    try {
      // What failed before goes first and alone: new counts are sealed only once it is written.
      await this.sendWaiting(sent)
      this.seal(now)
      await this.sendWaiting(sent)
      this.healthy = true
      this.totals.flushes++
      this.lastFlushAt = now
      this.reportFlush(true, sent, started, undefined)
    } catch (error) {
      this.healthy = false
      this.totals.flushErrors++
      this.reportFlush(false, sent, started, error)
      throw error
    } finally {
      for (const [keyId, at] of this.touched) {
        if (now - at >= this.config.lastUsedIntervalMs) this.touched.delete(keyId)
      }
    }
  }

  private async sendWaiting(sent: { batches: number; verifications: number }): Promise<void> {
    while (this.waiting.length > 0) {
      const entry = this.waiting[0]!
      entry.inFlight = true
      try {
        await this.store.recordUsage(entry.batch)
      } finally {
        entry.inFlight = false
      }
      this.waiting.shift()
      this.waitingWeight -= entry.weight
      sent.batches++
      sent.verifications += entry.verifications
    }
  }

  private takePending(): { counters: Counter[]; log: UsageLogEntry[] } {
    const counters: Counter[] = []
    for (const minute of this.minutes.values()) {
      for (const head of minute.values()) {
        for (let counter: Counter | undefined = head; counter !== undefined; counter = counter.next)
          counters.push(counter)
      }
    }
    const log = this.logHead === 0 ? this.log : this.log.slice(this.logHead)
    this.minutes = new Map()
    this.currentMinute = Number.NaN
    this.counters = 0
    this.log = []
    this.logHead = 0
    return { counters, log }
  }

  /** Turns everything pending into batches of at most `batchSize` counters and log entries. */
  private seal(now: number): void {
    const { counters, log } = this.takePending()
    const touches = [...this.touches].map(([keyId, at]) => ({ keyId, at }))
    this.touches = new Map()
    const size = this.config.batchSize
    const count = Math.max(
      Math.ceil(counters.length / size),
      Math.ceil(log.length / size),
      touches.length > 0 ? 1 : 0,
    )
    for (let index = 0; index < count; index++) {
      const part = counters.slice(index * size, (index + 1) * size)
      const entries = log.slice(index * size, (index + 1) * size)
      const batch = buildUsageBatch(part, entries, index === 0 ? touches : [], {
        origin: this.origin,
        sequence: ++this.sequence,
        now,
        retentionMs: this.config.retentionMs,
      })
      let verifications = 0
      for (const counter of part) verifications += verificationsOf(counter)
      const weight = part.length + entries.length
      this.waiting.push({ batch, weight, verifications, logEntries: entries.length, inFlight: false })
      this.waitingWeight += weight
    }
  }

  private reportFlush(
    ok: boolean,
    sent: { batches: number; verifications: number },
    started: number,
    error: unknown,
  ): void {
    if (!this.events.has('usage.flush')) return
    this.events.emit('usage.flush', {
      type: 'usage.flush',
      ok,
      batches: sent.batches,
      verifications: sent.verifications,
      pending: this.weight(),
      durationMs: performance.now() - started,
      ...(ok ? {} : { error }),
      timestamp: this.now(),
    })
  }
}
