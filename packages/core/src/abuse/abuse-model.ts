/**
 * The shape of abuse signals, shared by the monitor, the `abuse` event and every store that keeps
 * their counters and history (docs/architecture.md, "Abuse signals"): the four kinds, the event
 * each one emits, and the fixed windows a signal fires at most once in per key (or address).
 */

/** What an `abuse` event reports. */
export type AbuseKind = 'wrong-secret' | 'many-networks' | 'spike' | 'failed-burst'

export const ABUSE_KINDS: readonly AbuseKind[] = Object.freeze([
  'wrong-secret',
  'many-networks',
  'spike',
  'failed-burst',
])

interface AbuseEventBase {
  type: 'abuse'
  /**
   * Start of the window the signal fired in, epoch ms. Windows are fixed (multiples of `windowMs`
   * since the epoch); a signal fires at most once per key (or address) per window, across every
   * process sharing the store.
   */
  windowStart: number
  windowMs: number
  /** True when keyward disables the key in response (`quarantine: true` for this kind). */
  quarantined: boolean
  timestamp: number
}

/** A known key id was presented with a wrong secret `attempts` times in the window (every process). */
export interface WrongSecretAbuseEvent extends AbuseEventBase {
  kind: 'wrong-secret'
  keyId: string
  ownerId: string
  attempts: number
  threshold: number
}

/** The key, with its secret, was used from `networks` distinct client networks in the window. */
export interface ManyNetworksAbuseEvent extends AbuseEventBase {
  kind: 'many-networks'
  keyId: string
  ownerId: string
  /** Distinct networks (`/ipv4Prefix` for IPv4, `/ipv6Prefix` for IPv6) counted so far. */
  networks: number
  threshold: number
}

/** The key's requests in one minute reached `factor` × its own mean per minute before it. */
export interface SpikeAbuseEvent extends AbuseEventBase {
  kind: 'spike'
  keyId: string
  ownerId: string
  /** Start of the minute that spiked, epoch ms. */
  minute: number
  /** Requests of the key in that minute (every process, counted so far). */
  requests: number
  /** Mean requests per minute over the `baselineMinutes` before it. */
  baseline: number
  factor: number
}

/** The brute-force guard blocked a client network: it sent too many keys that do not work. */
export interface FailedBurstAbuseEvent extends AbuseEventBase {
  kind: 'failed-burst'
  /** The client network the guard counts by (an address, or an IPv6 prefix). */
  network: string
  /** Failed attempts counted when it was blocked. */
  failures: number
  /** When the block ends, epoch ms. */
  blockedUntil: number
}

/** One abuse signal: a `switch` on `kind` is exhaustive. */
export type AbuseEvent =
  | WrongSecretAbuseEvent
  | ManyNetworksAbuseEvent
  | SpikeAbuseEvent
  | FailedBurstAbuseEvent

export const MINUTE_MS = 60_000

/** Start of the fixed window of length `windowMs` that holds `at`. */
export function windowStart(at: number, windowMs: number): number {
  return Math.floor(at / windowMs) * windowMs
}
