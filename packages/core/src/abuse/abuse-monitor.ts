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
import type {
  AbuseCountIncrement,
  AbuseRateIncrement,
  AbuseSetIncrement,
  AbuseState,
  AbuseTallyResult,
  AbuseWindow,
} from '../store/abuse-interface.ts'
import type { StoredKey } from '../types.ts'
import { argumentError, checkInteger, checkObject, checkString } from '../validation.ts'
import { ABUSE_KINDS, type AbuseEvent, type AbuseKind, MINUTE_MS, windowStart } from './abuse-model.ts'
import { AbuseObservations, type ObservedMinutes } from './abuse-observations.ts'
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

/** What the verify pipeline calls; both are synchronous and never touch the store. */
export interface AbuseObserver {
  /** A request with the secret of `key`, the key usable (not disabled, revoked, expired). */
  used(key: StoredKey, ownerId: string, clientAddress: string | undefined, at: number): void
  /** A request with the id of `key` and a wrong secret. */
  wrongSecret(key: StoredKey): void
}

/** Disables a key in response to a signal; resolves once done (or when there is nothing to do). */
export type Quarantine = (keyId: string, reason: string) => Promise<void>

interface Candidate {
  window: AbuseWindow
  event: AbuseEvent
}

/** Signals whose claim could not be sent, kept for the next flush: at most this many. */
const MAX_UNCLAIMED = 1000

function windowId(window: AbuseWindow): string {
  return `${window.signal}\n${window.subject}\n${window.windowStart}`
}

function minutes(ms: number): string {
  return `${ms / MINUTE_MS} min`
}

export class AbuseMonitor implements AbuseObserver {
  private readonly observations: AbuseObservations
  /** Window id → its expiry: windows this process knows to be claimed. */
  private readonly settled = new Map<string, number>()
  /** Per key: the baseline sum of the minutes before `minute`, read once per minute. */
  private readonly baselines = new Map<string, { minute: number; sum: number }>()
  private unclaimed: Candidate[] = []
  private readonly totals = { dropped: 0, flushes: 0, flushErrors: 0 }
  private readonly emitted = Object.fromEntries(ABUSE_KINDS.map((kind) => [kind, 0])) as Record<
    AbuseKind,
    number
  >
  private lastFlushAt: number | null = null
  private flushing: Promise<void> | null = null
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
    if (this.settled.has(windowId(window))) return
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
    const run = (this.flushing ?? Promise.resolve()).catch(() => {}).then(() => this.flushOnce())
    this.flushing = run
    run
      .finally(() => {
        if (this.flushing === run) this.flushing = null
      })
      .catch(() => {})
    return run
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
      if (this.flushing === null) this.flush().catch(() => {})
    }, this.config.intervalMs)
    // Monitoring must never keep a process alive.
    this.timer.unref()
  }

  private async flushOnce(): Promise<void> {
    const now = this.now()
    this.forgetExpired(now)
    const observed = this.observations.take()
    const plan = this.plan(observed)
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
      candidates.push(...this.evaluate(plan, result))
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

  /** The store increments for what was observed, skipping windows already settled. */
  private plan(observed: ObservedMinutes): Plan {
    const { wrongSecret, manyNetworks, spike } = this.config
    const counts = new Map<string, AbuseCountIncrement & { ownerId: string }>()
    const sets = new Map<string, AbuseWindow & { ownerId: string; members: Set<string> }>()
    const rates: (AbuseRateIncrement & { ownerId: string; createdAt: number })[] = []
    let observations = 0
    for (const [minute, keys] of observed) {
      for (const [keyId, observation] of keys) {
        const { ownerId } = observation
        observations += observation.requests + observation.wrongSecrets
        if (wrongSecret !== null && observation.wrongSecrets > 0) {
          const window = this.window('wrong-secret', keyId, minute, wrongSecret.windowMs)
          const id = windowId(window)
          if (!this.settled.has(id)) {
            const count = counts.get(id)
            if (count === undefined) counts.set(id, { ...window, amount: observation.wrongSecrets, ownerId })
            else count.amount += observation.wrongSecrets
          }
        }
        if (manyNetworks !== null && observation.networks !== null) {
          const window = this.window('many-networks', keyId, minute, manyNetworks.windowMs)
          const id = windowId(window)
          if (!this.settled.has(id)) {
            const set = sets.get(id)
            if (set === undefined) sets.set(id, { ...window, members: observation.networks, ownerId })
            else for (const network of observation.networks) set.members.add(network)
          }
        }
        if (spike !== null && observation.requests > 0) {
          const cached = this.baselines.get(keyId)
          rates.push({
            keyId,
            ownerId,
            createdAt: observation.createdAt,
            minute,
            amount: observation.requests,
            baselineFrom: cached?.minute === minute ? null : minute - spike.baselineMinutes * MINUTE_MS,
            expiresAt: minute + (spike.baselineMinutes + 2) * MINUTE_MS,
          })
        }
      }
    }
    return {
      counts: [...counts.values()],
      sets: [...sets.values()].map((set) => ({ ...set, members: [...set.members] })),
      rates,
      observations,
    }
  }

  /** The signals the totals put over their thresholds, in windows not settled yet. */
  private evaluate(plan: Plan, result: AbuseTallyResult): Candidate[] {
    const at = this.now()
    const candidates: Candidate[] = []
    const { wrongSecret, manyNetworks, spike } = this.config
    if (wrongSecret !== null) {
      plan.counts.forEach((count, index) => {
        const attempts = result.counts[index] ?? 0
        if (attempts < wrongSecret.threshold) return
        candidates.push({
          window: count,
          event: {
            type: 'abuse',
            kind: 'wrong-secret',
            keyId: count.subject,
            ownerId: count.ownerId,
            attempts,
            threshold: wrongSecret.threshold,
            windowStart: count.windowStart,
            windowMs: wrongSecret.windowMs,
            quarantined: wrongSecret.quarantine,
            timestamp: at,
          },
        })
      })
    }
    if (manyNetworks !== null) {
      plan.sets.forEach((set, index) => {
        const networks = result.sets[index] ?? 0
        if (networks < manyNetworks.threshold) return
        candidates.push({
          window: set,
          event: {
            type: 'abuse',
            kind: 'many-networks',
            keyId: set.subject,
            ownerId: set.ownerId,
            networks,
            threshold: manyNetworks.threshold,
            windowStart: set.windowStart,
            windowMs: manyNetworks.windowMs,
            quarantined: manyNetworks.quarantine,
            timestamp: at,
          },
        })
      })
    }
    if (spike !== null) {
      plan.rates.forEach((rate, index) => {
        const answer = result.rates[index]
        if (answer === undefined) return
        let sum = answer.baseline
        if (sum === null) {
          sum = this.baselines.get(rate.keyId)?.sum ?? 0
        } else if (this.baselines.has(rate.keyId) || this.baselines.size < this.config.maxKeys) {
          this.baselines.set(rate.keyId, { minute: rate.minute, sum })
        }
        // A key younger than its baseline has none yet: starting busy is no spike.
        if (rate.minute < rate.createdAt + spike.baselineMinutes * MINUTE_MS) return
        const mean = sum / spike.baselineMinutes
        if (answer.total < spike.minRequests || answer.total < spike.factor * mean) return
        const window = this.window('spike', rate.keyId, rate.minute, spike.windowMs)
        if (this.settled.has(windowId(window))) return
        candidates.push({
          window,
          event: {
            type: 'abuse',
            kind: 'spike',
            keyId: rate.keyId,
            ownerId: rate.ownerId,
            minute: rate.minute,
            requests: answer.total,
            baseline: mean,
            factor: spike.factor,
            windowStart: window.windowStart,
            windowMs: spike.windowMs,
            quarantined: spike.quarantine,
            timestamp: at,
          },
        })
      })
    }
    return candidates
  }

  /** Claims each candidate's window; the process that wins one emits its event. */
  private async claimAndFire(candidates: Candidate[], now: number): Promise<void> {
    const unique = new Map<string, Candidate>()
    for (const candidate of candidates) {
      const id = windowId(candidate.window)
      if (!this.settled.has(id) && !unique.has(id)) unique.set(id, candidate)
    }
    if (unique.size === 0) return
    const pending = [...unique.values()]
    const won = await this.state.claim(
      pending.map(({ window }) => window),
      now,
    )
    pending.forEach((candidate, index) => {
      this.settled.set(windowId(candidate.window), candidate.window.expiresAt)
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

  private window(signal: AbuseKind, subject: string, at: number, windowMs: number): AbuseWindow {
    const start = windowStart(at, windowMs)
    return { signal, subject, windowStart: start, expiresAt: start + windowMs }
  }

  private forgetExpired(now: number): void {
    for (const [id, expiresAt] of this.settled) if (expiresAt <= now) this.settled.delete(id)
    // The store's claim is what makes a signal fire once: past the bound, forgetting only costs
    // a claim that loses.
    if (this.settled.size > 4 * this.config.maxKeys) this.settled.clear()
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS
    for (const [keyId, baseline] of this.baselines)
      if (baseline.minute < minute - MINUTE_MS) this.baselines.delete(keyId)
  }
}

interface Plan {
  counts: (AbuseCountIncrement & { ownerId: string })[]
  sets: (AbuseSetIncrement & { ownerId: string })[]
  rates: (AbuseRateIncrement & { ownerId: string; createdAt: number })[]
  /** Requests these increments stand for (what a failed flush drops). */
  observations: number
}

/** The `reason` a quarantine writes on the key (and its `key.updated` event carries). */
export function reasonOf(event: AbuseEvent): string {
  switch (event.kind) {
    case 'wrong-secret':
      return `abuse: ${event.attempts} wrong secrets within ${minutes(event.windowMs)} (threshold ${event.threshold})`
    case 'many-networks':
      return `abuse: used from ${event.networks} networks within ${minutes(event.windowMs)} (threshold ${event.threshold})`
    case 'spike':
      return `abuse: ${event.requests} requests in one minute, over ${event.factor}× its mean of ${event.baseline.toFixed(1)} per minute`
    case 'failed-burst':
      return `abuse: ${event.failures} failed attempts from ${event.network}`
  }
}

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
      return (
        monitor?.stats() ?? {
          pending: 0,
          droppedObservations: 0,
          flushes: 0,
          flushErrors: 0,
          lastFlushAt: null,
          events: Object.fromEntries(ABUSE_KINDS.map((kind) => [kind, 0])) as Record<AbuseKind, number>,
        }
      )
    },
  }
}
