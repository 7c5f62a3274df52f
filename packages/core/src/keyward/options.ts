/**
 * The options of `createKeyward`, validated once into the configuration the verify pipeline and
 * the key manager share. Every mistake is a `ConfigError` naming the option.
 */
import { type AbuseConfig, type AbuseOptions, resolveAbuseOptions } from '../abuse/abuse-options.ts'
import { ConfigError } from '../errors.ts'
import {
  type BruteForceOptions,
  type ResolvedBruteForceOptions,
  resolveBruteForceOptions,
} from '../guard/options.ts'
import { KeyHasher, type Pepper } from '../hashing.ts'
import { type Environment, PREFIX_PATTERN, type RandomSource } from '../key-format.ts'
import { resolvePolicies } from '../policies.ts'
import type { KeyStore } from '../store/interface.ts'
import { MemoryStore } from '../store/memory-store.ts'
import type { RateLimitPolicy, ResolvedPolicy } from '../types.ts'
import { resolveUsageOptions, type UsageConfig, type UsageOptions } from '../usage/usage-options.ts'
import { checkFunction, checkObject, checkOneOf, optionalInteger } from '../validation.ts'

const DAY_MS = 86_400_000

export interface KeywardOptions {
  /** Key prefix, 2–12 chars of `[a-z0-9]`. @default 'kw' */
  prefix?: string | undefined
  /** The environment this server accepts; keys of the other are `WRONG_ENVIRONMENT`. @default 'live' */
  environment?: Environment | undefined
  /** The pepper for key hashes (≥ 32 chars). Required with a shared store; optional in memory. */
  secret?: string | undefined
  /** Versioned peppers, for rotation: new keys use the highest version. Instead of `secret`. */
  secrets?: Pepper[] | undefined
  /** Where records, counters and limits live. @default new MemoryStore() */
  store?: KeyStore | undefined
  /** Rate limit for keys without their own. @default none (such keys are not rate limited) */
  rateLimit?: RateLimitPolicy | RateLimitPolicy[] | undefined
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
  /** Random bytes for ids and secrets. @default crypto.randomBytes */
  random?: RandomSource
  /** `Retry-After` hint, in ms, when the store is unreachable. @default 1000 */
  unavailableRetryAfterMs?: number
  /**
   * How long a revoked or expired key is kept before it is deleted for good (its id then answers
   * `NOT_FOUND`); checked hourly and by `keys.purge()`. `false` keeps them forever.
   * @default 30 days
   */
  keyRetentionMs?: number | false
  /**
   * The brute-force guard, shared by every `apiKeyAuth` of this instance: after `points` failed
   * attempts (keys that do not work) from one client network within `duration` seconds, that
   * network gets 429 for `blockDuration` seconds, before any lookup. IPv6 clients count by their
   * `ipv6Prefix`; at most `maxAddresses` networks are remembered. On a store with a `sharedGuard`
   * (RedisStore) counts and blocks are shared by every process. `false` turns it off.
   * @default { points: 20, duration: 60, blockDuration: 300, ipv6Prefix: 64, maxAddresses: 100000 }
   */
  bruteForce?: BruteForceOptions | false
  /**
   * Usage recording (counts per key, owner and outcome; `lastUsedAt`), flushed to the store off
   * the request path; `false` turns it off in this process. @default {} (on, with the defaults)
   */
  usage?: UsageOptions | false
  /**
   * Abuse signals — `abuse` events of kind `wrong-secret`, `many-networks`, `spike` and
   * `failed-burst` — with their thresholds, windows and opt-in quarantine; `false` turns them off.
   * @default {} (on, with the defaults)
   */
  abuse?: AbuseOptions | false
}

/** The validated options, shared by the verify pipeline and the key manager. */
export interface KeywardConfig {
  prefix: string
  environment: Environment
  store: KeyStore
  hasher: KeyHasher
  /** The installation-wide policies for keys without their own, or `null`. */
  defaultPolicies: ResolvedPolicy[] | null
  now: () => number
  random: RandomSource | undefined
  unavailableRetryAfterMs: number
  /** `null`: ended keys are kept forever. */
  keyRetentionMs: number | null
  /** `null`: the brute-force guard is off. */
  bruteForce: ResolvedBruteForceOptions | null
  usage: UsageConfig
  abuse: AbuseConfig
}

export function resolveOptions(options: KeywardOptions): KeywardConfig {
  checkObject('options', options)
  const prefix = options.prefix ?? 'kw'
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError('prefix', 'must be 2–12 characters of a-z and 0-9 (no underscore)')
  }
  const environment = checkOneOf('environment', options.environment ?? 'live', ['live', 'test'])
  const store = options.store ?? new MemoryStore()
  if (store === null || typeof store !== 'object' || typeof store.get !== 'function') {
    throw new ConfigError('store', 'must implement KeyStore (e.g. new MemoryStore() or new RedisStore(…))')
  }
  let hasher = KeyHasher.fromOptions(options.secret, options.secrets)
  if (hasher === null) {
    if (store.shared) {
      throw new ConfigError(
        'secret',
        'a shared store needs a pepper: set `secret` (e.g. process.env.KEYWARD_SECRET, 32+ chars from `openssl rand -base64 32`) so every process hashes keys alike',
      )
    }
    hasher = KeyHasher.ephemeral()
  }
  checkFunction('now', options.now)
  checkFunction('random', options.random)
  return {
    prefix,
    environment,
    store,
    hasher,
    defaultPolicies:
      options.rateLimit === undefined ? null : resolvePolicies('rateLimit', options.rateLimit, 'default'),
    now: options.now ?? Date.now,
    random: options.random,
    unavailableRetryAfterMs: optionalInteger(
      'unavailableRetryAfterMs',
      options.unavailableRetryAfterMs,
      1000,
    ),
    keyRetentionMs:
      options.keyRetentionMs === false
        ? null
        : optionalInteger(
            'keyRetentionMs',
            options.keyRetentionMs,
            30 * DAY_MS,
            { min: 60_000 },
            undefined,
            ' (ms)',
          ),
    bruteForce: resolveBruteForceOptions('bruteForce', options.bruteForce),
    usage: resolveUsageOptions(options.usage, store),
    abuse: resolveAbuseOptions(options.abuse, store),
  }
}
