/**
 * The `abuse` option of `createKeyward`: which signals run, their thresholds and windows, the
 * opt-in quarantine per kind, how often observations are added up, and the history kept. Every
 * mistake is a `ConfigError` naming the option path (`abuse.spike.factor`).
 */
import { ConfigError } from '../errors.ts'
import type { KeyStore } from '../store/interface.ts'
import { checkKnownFields, checkObject, configError, optionalInteger } from '../validation.ts'
import { MINUTE_MS } from './abuse-model.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

interface SignalOptions {
  /**
   * The signal fires at most once per key (or address) per window of this length, in ms: a whole
   * number of minutes. Windows are fixed, aligned on multiples of it since the epoch.
   * @default 3600000 (1 hour)
   */
  windowMs?: number
  /**
   * Disable the key when the signal fires (in every process; `key.updated` with actor
   * `keyward:abuse`, the reason kept as `disabledReason`). @default false
   */
  quarantine?: boolean
}

export interface WrongSecretOptions extends SignalOptions {
  /**
   * Wrong secrets presented with one key id in a window that make it fire. With `quarantine`,
   * anyone who knows a key id (ids are public) can disable that key: turn it on only if that
   * trade suits you. @default 10
   */
  threshold?: number
}

export interface ManyNetworksOptions extends SignalOptions {
  /** Distinct client networks one key is used from in a window that make it fire. @default 20 */
  threshold?: number
  /** IPv4 clients count per network of this prefix length. @default 24 */
  ipv4Prefix?: number
  /** IPv6 clients count per network of this prefix length. @default 64 */
  ipv6Prefix?: number
}

export interface SpikeOptions extends SignalOptions {
  /** A minute with at least `factor` × the key's mean per minute before it fires. @default 10 */
  factor?: number
  /** Minutes the mean is taken over (idle minutes count as zero). @default 60 */
  baselineMinutes?: number
  /** Requests a minute needs before it can count as a spike at all. @default 100 */
  minRequests?: number
}

export interface FailedBurstOptions {
  /** Fires at most once per client network per window of this length, in ms. @default 3600000 */
  windowMs?: number
}

export interface AbuseHistoryOptions {
  /** Events kept per key, and for the installation. @default 100 */
  size?: number
  /** How long events are kept, in ms. @default 30 days */
  retentionMs?: number
}

export interface AbuseOptions {
  /**
   * How often this process adds its observations to the store and evaluates the signals, in ms.
   * @default 5000
   */
  intervalMs?: number
  /**
   * Most keys this process observes per interval; observations of further keys are dropped until
   * the next flush (and counted in `abuse.stats()`). Bounds the memory abuse signals use.
   * @default 10000
   */
  maxKeys?: number
  /** `false` turns it off. */
  wrongSecret?: WrongSecretOptions | false
  manyNetworks?: ManyNetworksOptions | false
  spike?: SpikeOptions | false
  failedBurst?: FailedBurstOptions | false
  /** The recent events `keyward.abuse.recent()` reads back. */
  history?: AbuseHistoryOptions
}

export interface ResolvedWrongSecret {
  threshold: number
  windowMs: number
  quarantine: boolean
}

export interface ResolvedManyNetworks extends ResolvedWrongSecret {
  ipv4Prefix: number
  ipv6Prefix: number
}

export interface ResolvedSpike {
  factor: number
  baselineMinutes: number
  minRequests: number
  windowMs: number
  quarantine: boolean
}

/** The validated `abuse` option; `null` for a signal turned off, `enabled: false` for `abuse: false`. */
export interface AbuseConfig {
  enabled: boolean
  intervalMs: number
  maxKeys: number
  wrongSecret: ResolvedWrongSecret | null
  manyNetworks: ResolvedManyNetworks | null
  spike: ResolvedSpike | null
  failedBurst: { windowMs: number } | null
  history: { size: number; retentionMs: number }
}

const TOP_FIELDS: ReadonlySet<string> = new Set([
  'intervalMs',
  'maxKeys',
  'wrongSecret',
  'manyNetworks',
  'spike',
  'failedBurst',
  'history',
])

/** The signal's options object, `null` when turned off (`false`). */
function signal(field: string, value: unknown, known: readonly string[]): Record<string, unknown> | null {
  if (value === false) return null
  if (value === undefined) return {}
  const options = checkObject(field, value, configError, 'an object or false')
  checkKnownFields(field, options, new Set(known), configError)
  return options
}

function windowOf(field: string, value: unknown): number {
  const windowMs = optionalInteger(`${field}.windowMs`, value, HOUR_MS, { min: MINUTE_MS, max: 7 * DAY_MS })
  if (windowMs % MINUTE_MS !== 0)
    throw new ConfigError(`${field}.windowMs`, 'must be a whole number of minutes (a multiple of 60000)')
  return windowMs
}

function quarantineOf(field: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    throw new ConfigError(`${field}.quarantine`, 'must be a boolean')
  return value === true
}

export function resolveAbuseOptions(value: AbuseOptions | false | undefined, store: KeyStore): AbuseConfig {
  const options: AbuseOptions = value === false || value === undefined ? {} : value
  if (value !== false && value !== undefined) {
    checkObject('abuse', value, configError, 'an object or false')
    checkKnownFields('abuse', value, TOP_FIELDS, configError)
  }
  const enabled = value !== false
  if (enabled && store.abuse === undefined && store.shared) {
    throw new ConfigError(
      'abuse',
      'the store shares no abuse counters (it has no `abuse`): update it, or pass `abuse: false`',
    )
  }

  const wrong = signal('abuse.wrongSecret', options.wrongSecret, ['threshold', 'windowMs', 'quarantine'])
  const networks = signal('abuse.manyNetworks', options.manyNetworks, [
    'threshold',
    'windowMs',
    'quarantine',
    'ipv4Prefix',
    'ipv6Prefix',
  ])
  const spike = signal('abuse.spike', options.spike, [
    'factor',
    'baselineMinutes',
    'minRequests',
    'windowMs',
    'quarantine',
  ])
  const burst = signal('abuse.failedBurst', options.failedBurst, ['windowMs'])
  const history = options.history
  if (history !== undefined) {
    checkObject('abuse.history', history)
    checkKnownFields('abuse.history', history, new Set(['size', 'retentionMs']), configError)
  }

  return {
    enabled,
    intervalMs: optionalInteger('abuse.intervalMs', options.intervalMs, 5000, { min: 10, max: 30_000 }),
    maxKeys: optionalInteger('abuse.maxKeys', options.maxKeys, 10_000, { min: 1 }),
    wrongSecret:
      wrong === null
        ? null
        : {
            threshold: optionalInteger('abuse.wrongSecret.threshold', wrong.threshold, 10, { min: 1 }),
            windowMs: windowOf('abuse.wrongSecret', wrong.windowMs),
            quarantine: quarantineOf('abuse.wrongSecret', wrong.quarantine),
          },
    manyNetworks:
      networks === null
        ? null
        : {
            threshold: optionalInteger('abuse.manyNetworks.threshold', networks.threshold, 20, {
              min: 2,
              max: 1000,
            }),
            windowMs: windowOf('abuse.manyNetworks', networks.windowMs),
            quarantine: quarantineOf('abuse.manyNetworks', networks.quarantine),
            ipv4Prefix: optionalInteger('abuse.manyNetworks.ipv4Prefix', networks.ipv4Prefix, 24, {
              min: 8,
              max: 32,
            }),
            ipv6Prefix: optionalInteger('abuse.manyNetworks.ipv6Prefix', networks.ipv6Prefix, 64, {
              min: 16,
              max: 128,
            }),
          },
    spike:
      spike === null
        ? null
        : {
            factor: optionalInteger('abuse.spike.factor', spike.factor, 10, { min: 2 }),
            baselineMinutes: optionalInteger('abuse.spike.baselineMinutes', spike.baselineMinutes, 60, {
              min: 1,
              max: 1440,
            }),
            minRequests: optionalInteger('abuse.spike.minRequests', spike.minRequests, 100, { min: 1 }),
            windowMs: windowOf('abuse.spike', spike.windowMs),
            quarantine: quarantineOf('abuse.spike', spike.quarantine),
          },
    failedBurst: burst === null ? null : { windowMs: windowOf('abuse.failedBurst', burst.windowMs) },
    history: {
      size: optionalInteger('abuse.history.size', history?.size, 100, { min: 1, max: 10_000 }),
      retentionMs: optionalInteger('abuse.history.retentionMs', history?.retentionMs, 30 * DAY_MS, {
        min: MINUTE_MS,
      }),
    },
  }
}
