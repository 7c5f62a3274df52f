/**
 * Abuse monitoring (docs/architecture.md, "Abuse signals"). The verify pipeline reports what it
 * sees to `AbuseObservations` — synchronous, in memory, no store access. Every `intervalMs` (on an
 * `unref`ed timer that starts with the first observation) the monitor adds this process's
 * observations to the store in one `tally`, which answers the totals of every process; a signal
 * over its threshold is then *claimed* for its window in the store, and only the process whose
 * claim wins emits the `abuse` event, writes it to the history and, when the kind asks for it,
 * quarantines the key. So each signal fires once per key (or address) per window, wherever the
 * requests landed.
 *
 * Best effort by design: observations of a flush that fails are dropped (and counted), and a signal
 * whose claim could not be sent is retried at the next flush. Memory is bounded by `maxKeys`
 * observations per interval and as many remembered windows and baselines (see `stats()`).
 */
import type { KeywardEmitter } from '../events.ts'
import { SerialRuns } from '../serial-runs.ts'
import type { AbuseState, AbuseTallyResult, AbuseWindow } from '../store/abuse-interface.ts'
import type { StoredKey } from '../types.ts'
import { type AbuseStats, noEvents } from './abuse-api.ts'
import { type AbuseEvent, MINUTE_MS, windowStart } from './abuse-model.ts'
import { AbuseObservations } from './abuse-observations.ts'
import type { AbuseConfig } from './abuse-options.ts'
import {
  type Candidate,
  evaluateTally,
  planTally,
  reasonOf,
  type SignalMemory,
  windowId,
} from './abuse-signals.ts'

/** What the verify pipeline calls; both are synchronous and never touch the store. */
export interface AbuseObserver {
  /** A request with the secret of `key`, the key usable (not disabled, revoked, expired). */
  used(key: StoredKey, ownerId: string, clientAddress: string | undefined, at: number): void
  /** A request with the id of `key` and a wrong secret. */
  wrongSecret(key: StoredKey): void
}

/** Disables a key in response to a signal; resolves once done (or when there is nothing to do). */
export type Quarantine = (keyId: string, reason: string) => Promise<void>

/** Signals whose claim could not be sent, kept for the next flush: at most this many. */
const MAX_UNCLAIMED = 1000

export class AbuseMonitor implements AbuseObserver {
  private readonly observations: AbuseObservations
  private readonly memory: SignalMemory = { settled: new Map(), baselines: new Map() }
  private unclaimed: Candidate[] = []
  private readonly totals = { dropped: 0, flushes: 0, flushErrors: 0 }
  private readonly emitted = noEvents()
  private lastFlushAt: number | null = null
  private readonly flushes = new SerialRuns()
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** Whether requests of a matched key matter: `spike` or `many-networks` is on. */
  private readonly observesUse: boolean

  constructor(
    private readonly config: AbuseConfig,
    private readonly state: AbuseState,
    private readonly events: KeywardEmitter,
    private readonly now: () => number,
    private readonly quarantine: Quarantine,
  ) {
    const networks = config.manyNetworks
    this.observesUse = networks !== null || config.spike !== null
    this.observations = new AbuseObservations(
      config.maxKeys,
      networks === null
        ? null
        : { ipv4Prefix: networks.ipv4Prefix, ipv6Prefix: networks.ipv6Prefix, cap: networks.threshold },
    )
  }

  used(key: StoredKey, ownerId: string, clientAddress: string | undefined, at: number): void {
    if (this.closed || !this.observesUse) return
    this.observations.used(key.id, ownerId, key.createdAt, clientAddress, at)
    if (this.timer === null) this.start()
  }

  wrongSecret(key: StoredKey): void {
    if (this.closed || this.config.wrongSecret === null) return
    this.observations.wrongSecret(key.id, key.ownerId, key.createdAt, this.now())
    if (this.timer === null) this.start()
  }

  /**
   * The brute-force guard blocked `network`: one `failed-burst` per network per window, claimed in
   * the store like the others (the guard may announce one block from two processes).
   */
  failedBurst(network: string, failures: number, blockedUntil: number): void {
    const options = this.config.failedBurst
    if (this.closed || options === null) return
    const at = this.now()
    const start = windowStart(at, options.windowMs)
    const window: AbuseWindow = {
      signal: 'failed-burst',
      subject: network,
      windowStart: start,
      expiresAt: start + options.windowMs,
    }
    if (this.memory.settled.has(windowId(window))) return
    const event: AbuseEvent = {
      type: 'abuse',
      kind: 'failed-burst',
      network,
      failures,
      blockedUntil,
      windowStart: start,
      windowMs: options.windowMs,
      quarantined: false,
      timestamp: at,
    }
    this.claimAndFire([{ window, event }], at).catch(() => {})
  }

  /**
   * Writes everything observed so far and evaluates it. Rejects with the store's error when the
   * store could not be written. Calls made during a flush run after it.
   */
  flush(): Promise<void> {
    return this.flushes.run(() => this.flushOnce())
  }

  stats(): AbuseStats {
    return {
      pending: this.observations.size,
      droppedObservations: this.totals.dropped + this.observations.dropped,
      flushes: this.totals.flushes,
      flushErrors: this.totals.flushErrors,
      lastFlushAt: this.lastFlushAt,
      events: { ...this.emitted },
    }
  }

  /** Stops observing and flushes what is left (best effort). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    await this.flush().catch(() => {})
  }

  private start(): void {
    this.timer = setInterval(() => {
      if (!this.flushes.busy) this.flush().catch(() => {})
    }, this.config.intervalMs)
    // Monitoring must never keep a process alive.
    this.timer.unref()
  }

  private async flushOnce(): Promise<void> {
    const now = this.now()
    this.forgetExpired(now)
    const observed = this.observations.take()
    const plan = planTally(observed, this.config, this.memory)
    const candidates = this.unclaimed
    this.unclaimed = []
    if (plan.counts.length + plan.sets.length + plan.rates.length > 0) {
      let result: AbuseTallyResult
      try {
        result = await this.state.tally({ now, counts: plan.counts, sets: plan.sets, rates: plan.rates })
      } catch (error) {
        this.totals.dropped += plan.observations
        this.failed(error, candidates)
        throw error
      }
      candidates.push(...evaluateTally(plan, result, this.config, this.memory, this.now()))
    }
    if (candidates.length > 0) {
      try {
        await this.claimAndFire(candidates, now)
      } catch (error) {
        this.failed(error, candidates)
        throw error
      }
    }
    this.totals.flushes++
    this.lastFlushAt = now
  }

  private failed(error: unknown, candidates: Candidate[]): void {
    this.totals.flushErrors++
    this.unclaimed = [...candidates, ...this.unclaimed].slice(0, MAX_UNCLAIMED)
    if (this.events.has('error')) this.events.emit('error', { error, event: 'abuse' })
  }

  /** Claims each candidate's window; the process that wins one emits its event. */
  private async claimAndFire(candidates: Candidate[], now: number): Promise<void> {
    const unique = new Map<string, Candidate>()
    for (const candidate of candidates) {
      const id = windowId(candidate.window)
      if (!this.memory.settled.has(id) && !unique.has(id)) unique.set(id, candidate)
    }
    if (unique.size === 0) return
    const pending = [...unique.values()]
    const won = await this.state.claim(
      pending.map(({ window }) => window),
      now,
    )
    pending.forEach((candidate, index) => {
      this.memory.settled.set(windowId(candidate.window), candidate.window.expiresAt)
      if (won[index] === true) this.fire(candidate.event)
    })
  }

  private fire(event: AbuseEvent): void {
    this.emitted[event.kind]++
    this.events.emit('abuse', event)
    this.state.remember(event, this.config.history, event.timestamp).catch((error: unknown) => {
      if (this.events.has('error')) this.events.emit('error', { error, event: 'abuse.history' })
    })
    if (event.quarantined && 'keyId' in event) {
      this.quarantine(event.keyId, reasonOf(event)).catch((error: unknown) => {
        if (this.events.has('error')) this.events.emit('error', { error, event: 'abuse.quarantine' })
      })
    }
  }

  private forgetExpired(now: number): void {
    for (const [id, expiresAt] of this.memory.settled) if (expiresAt <= now) this.memory.settled.delete(id)
    // The store's claim is what makes a signal fire once: past the bound, forgetting only costs
    // a claim that loses.
    if (this.memory.settled.size > 4 * this.config.maxKeys) this.memory.settled.clear()
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS
    for (const [keyId, baseline] of this.memory.baselines)
      if (baseline.minute < minute - MINUTE_MS) this.memory.baselines.delete(keyId)
  }
}
