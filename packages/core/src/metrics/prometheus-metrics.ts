/**
 * Prometheus metrics of a keyward instance on `prom-client` (docs/architecture.md, "Metrics"),
 * behind the `@keyward/core/prometheus` entry so that only an application that imports it loads
 * `prom-client`. Counters and the flush histogram follow keyward's events (`keyward-observer.ts`);
 * the verify latency histogram wraps `verify` (`keyward.wrapVerify`), which stays the bare
 * pipeline for applications that attach no metrics; gauges and the totals kept in `stats()` are
 * read when Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, Registry as PromRegistry, type Registry } from 'prom-client'
import { ABUSE_KINDS } from '../abuse/abuse-model.ts'
import type { Keyward } from '../keyward/create-keyward.ts'
import { OUTCOME_INDEX, USAGE_OUTCOMES } from '../usage/usage-model.ts'
import { checkObject, configError } from '../validation.ts'
import { keywardReadings, observeKeyward } from './keyward-observer.ts'

export interface PrometheusMetricsOptions {
  /** The registry to register the metrics on. @default a new `Registry` of its own */
  registry?: Registry
  /** Prefix of every metric name (two keywards on one registry need different ones). @default 'keyward_' */
  prefix?: string
  /**
   * Upper bounds of the verify latency histogram's buckets, in seconds.
   * @default [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
   */
  verifyBuckets?: number[]
}

export interface PrometheusMetrics {
  readonly registry: Registry
  /** The `Content-Type` of `metrics()`: Prometheus text exposition format 0.0.4. */
  readonly contentType: string
  /** The registry in the text exposition format: what a `/metrics` endpoint answers. */
  metrics(): Promise<string>
  /** Stops observing keyward and removes these metrics from the registry. */
  close(): void
}

const VERIFY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
const FLUSH_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const METRIC_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/**
 * Registers keyward's metrics on a Prometheus registry. Throws `ConfigError` for a bad option.
 *
 * @example
 * const metrics = prometheusMetrics(keyward)
 * app.get('/metrics', async (_req, res) => res.type(metrics.contentType).send(await metrics.metrics()))
 */
export function prometheusMetrics(
  keyward: Keyward,
  options: PrometheusMetricsOptions = {},
): PrometheusMetrics {
  checkObject('options', options)
  const registry = options.registry ?? new PromRegistry()
  const prefix = options.prefix ?? 'keyward_'
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) {
    throw configError('prefix', 'must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)')
  }
  const buckets = options.verifyBuckets ?? VERIFY_BUCKETS
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((bound) => !(bound > 0))) {
    throw configError('verifyBuckets', 'must be a non-empty array of positive numbers (seconds)')
  }
  const registers = [registry]
  const read = keywardReadings(keyward)
  const names: string[] = []
  const named = (name: string) => {
    names.push(prefix + name)
    return prefix + name
  }

  // Counted in a plain array on the request path (a prom-client `inc` with labels costs ~0.4 µs),
  // published when Prometheus scrapes.
  const verificationCounts = new Float64Array(USAGE_OUTCOMES.length)
  new Counter({
    name: named('verifications_total'),
    help: 'Verifications by outcome: VALID or the VerifyCode.',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset()
      USAGE_OUTCOMES.forEach((code, index) => {
        this.labels(code).inc(verificationCounts[index])
      })
    },
  })
  // No label: the outcomes are counted above; one series of buckets keeps the cardinality low.
  const verifyDuration = new Histogram({
    name: named('verify_duration_seconds'),
    help: 'Time keyward.verify took, whatever the outcome.',
    buckets,
    registers,
  })
  const flushes = new Counter({
    name: named('usage_flushes_total'),
    help: 'Usage flushes by outcome (ok, or error: retried at the next flush).',
    labelNames: ['outcome'],
    registers,
  })
  for (const outcome of ['ok', 'error']) flushes.labels(outcome).inc(0)
  const flushDuration = new Histogram({
    name: named('usage_flush_duration_seconds'),
    help: 'Time a usage flush took.',
    buckets: FLUSH_BUCKETS,
    registers,
  })
  new Gauge({
    name: named('usage_pending'),
    help: 'Usage entries waiting to be written to the store.',
    registers,
    collect() {
      this.set(read().usagePending)
    },
  })
  new Gauge({
    name: named('usage_flush_lag_seconds'),
    help: 'Seconds since the last successful usage flush while counts are pending (0 when none are).',
    registers,
    collect() {
      this.set(read().usageFlushLagSeconds)
    },
  })
  new Counter({
    name: named('usage_dropped_total'),
    help: 'Usage dropped past usage.maxPending or at close with the store down, by what (verifications, log_entries).',
    labelNames: ['what'],
    registers,
    collect() {
      const readings = read()
      this.reset()
      this.labels('verifications').inc(readings.usageDroppedVerifications)
      this.labels('log_entries').inc(readings.usageDroppedLogEntries)
    },
  })
  const storeErrors = new Counter({
    name: named('store_errors_total'),
    help: 'Store failures, by operation (verify: answered UNAVAILABLE; usage: a flush; abuse, purge: background tasks).',
    labelNames: ['operation'],
    registers,
  })
  for (const operation of ['verify', 'usage']) storeErrors.labels(operation).inc(0)
  const abuseEvents = new Counter({
    name: named('abuse_events_total'),
    help: 'Abuse events this process emitted, by kind.',
    labelNames: ['kind'],
    registers,
  })
  for (const kind of ABUSE_KINDS) abuseEvents.labels(kind).inc(0)
  new Counter({
    name: named('abuse_dropped_observations_total'),
    help: 'Requests whose abuse observation was dropped (abuse.maxKeys reached, or a failed flush).',
    registers,
    collect() {
      this.reset()
      this.inc(read().abuseDroppedObservations)
    },
  })
  if (typeof keyward.store.cacheStats === 'function') {
    new Counter({
      name: named('store_cache_lookups_total'),
      help: "Record lookups by the store's process-local cache, by result (hit: answered from it; miss: read the backend).",
      labelNames: ['result'],
      registers,
      collect() {
        const { hits = 0, misses = 0 } = read().cache ?? {}
        this.reset()
        this.labels('hit').inc(hits)
        this.labels('miss').inc(misses)
      },
    })
    new Gauge({
      name: named('store_cache_hit_ratio'),
      help: "Share of record lookups answered from the store's process-local cache since it started.",
      registers,
      collect() {
        const { hits = 0, misses = 0 } = read().cache ?? {}
        this.set(hits + misses === 0 ? 0 : hits / (hits + misses))
      },
    })
    new Gauge({
      name: named('store_cache_entries'),
      help: "Records held in the store's process-local cache.",
      registers,
      collect() {
        this.set(read().cache?.size ?? 0)
      },
    })
  }

  const stopObserving = observeKeyward(keyward, {
    verification(code) {
      verificationCounts[OUTCOME_INDEX[code]]!++
    },
    usageFlush(ok, seconds) {
      flushes.labels(ok ? 'ok' : 'error').inc()
      flushDuration.observe(seconds)
    },
    abuse: (kind) => abuseEvents.labels(kind).inc(),
    storeError: (operation) => storeErrors.labels(operation).inc(),
  })
  const unwrap = keyward.wrapVerify((next) => async (token, verifyOptions) => {
    const started = performance.now()
    const result = await next(token, verifyOptions)
    verifyDuration.observe((performance.now() - started) / 1000)
    return result
  })

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    close() {
      stopObserving()
      unwrap()
      for (const name of names) registry.removeSingleMetric(name)
    },
  }
}
