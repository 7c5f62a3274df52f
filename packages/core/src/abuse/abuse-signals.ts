/**
 * Deciding abuse signals (docs/architecture.md, "Abuse signals"): what one flush sends the store
 * for what was observed (`planTally`), which signals the totals of every process put over their
 * thresholds (`evaluateTally`), and the reason a quarantine writes. No I/O and no clock here: the
 * monitor calls these with what it read.
 */
import type {
  AbuseCountIncrement,
  AbuseRateIncrement,
  AbuseSetIncrement,
  AbuseTallyResult,
  AbuseWindow,
} from '../store/abuse-interface.ts'
import { type AbuseEvent, type AbuseKind, MINUTE_MS, windowStart } from './abuse-model.ts'
import type { ObservedMinutes } from './abuse-observations.ts'
import type { AbuseConfig } from './abuse-options.ts'

/** A signal over its threshold: the window to claim, and the event to emit if the claim wins. */
export interface Candidate {
  window: AbuseWindow
  event: AbuseEvent
}

/** What a monitor remembers between flushes. */
export interface SignalMemory {
  /** Window id → its end: windows known to be claimed (by this process or another). */
  settled: Map<string, number>
  /** Per key: the baseline sum of the minutes before `minute`, read once per key and minute. */
  baselines: Map<string, { minute: number; sum: number }>
}

/** One flush's increments, with what evaluating their totals needs. */
export interface Plan {
  counts: (AbuseCountIncrement & { ownerId: string })[]
  sets: (AbuseSetIncrement & { ownerId: string })[]
  rates: (AbuseRateIncrement & { ownerId: string; createdAt: number })[]
  /** Requests these increments stand for (what a failed flush drops). */
  observations: number
}

export function windowId(window: AbuseWindow): string {
  return `${window.signal}\n${window.subject}\n${window.windowStart}`
}

/** The window of `signal` for `subject` that holds `at`. */
export function windowOf(signal: AbuseKind, subject: string, at: number, windowMs: number): AbuseWindow {
  const start = windowStart(at, windowMs)
  return { signal, subject, windowStart: start, expiresAt: start + windowMs }
}

/**
 * The store increments for what was observed: wrong secrets and networks summed per key and window
 * (windows already `settled` left out: nothing more to decide there), requests per key and minute
 * (always: they are the baselines of the minutes to come), with the baseline asked for unless it
 * is in `baselines` for that minute.
 */
export function planTally(observed: ObservedMinutes, config: AbuseConfig, memory: SignalMemory): Plan {
  const { wrongSecret, manyNetworks, spike } = config
  const counts = new Map<string, AbuseCountIncrement & { ownerId: string }>()
  const sets = new Map<string, AbuseWindow & { ownerId: string; members: Set<string> }>()
  const rates: (AbuseRateIncrement & { ownerId: string; createdAt: number })[] = []
  let observations = 0
  for (const [minute, keys] of observed) {
    for (const [keyId, observation] of keys) {
      const { ownerId } = observation
      observations += observation.requests + observation.wrongSecrets
      if (wrongSecret !== null && observation.wrongSecrets > 0) {
        const window = windowOf('wrong-secret', keyId, minute, wrongSecret.windowMs)
        const id = windowId(window)
        if (!memory.settled.has(id)) {
          const count = counts.get(id)
          if (count === undefined) counts.set(id, { ...window, amount: observation.wrongSecrets, ownerId })
          else count.amount += observation.wrongSecrets
        }
      }
      if (manyNetworks !== null && observation.networks !== null) {
        const window = windowOf('many-networks', keyId, minute, manyNetworks.windowMs)
        const id = windowId(window)
        if (!memory.settled.has(id)) {
          const set = sets.get(id)
          if (set === undefined) sets.set(id, { ...window, members: observation.networks, ownerId })
          else for (const network of observation.networks) set.members.add(network)
        }
      }
      if (spike !== null && observation.requests > 0) {
        const cached = memory.baselines.get(keyId)
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

/**
 * The signals the totals put over their thresholds, in windows not settled yet, as the events they
 * would emit at `at`. Baselines the store answered are remembered in `memory` for the minute.
 */
export function evaluateTally(
  plan: Plan,
  result: AbuseTallyResult,
  config: AbuseConfig,
  memory: SignalMemory,
  at: number,
): Candidate[] {
  const candidates: Candidate[] = []
  const { wrongSecret, manyNetworks, spike } = config
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
        sum = memory.baselines.get(rate.keyId)?.sum ?? 0
      } else if (memory.baselines.has(rate.keyId) || memory.baselines.size < config.maxKeys) {
        memory.baselines.set(rate.keyId, { minute: rate.minute, sum })
      }
      // A key younger than its baseline has none yet: starting busy is no spike.
      if (rate.minute < rate.createdAt + spike.baselineMinutes * MINUTE_MS) return
      const mean = sum / spike.baselineMinutes
      if (answer.total < spike.minRequests || answer.total < spike.factor * mean) return
      const window = windowOf('spike', rate.keyId, rate.minute, spike.windowMs)
      if (memory.settled.has(windowId(window))) return
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

function minutes(ms: number): string {
  return `${ms / MINUTE_MS} min`
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
