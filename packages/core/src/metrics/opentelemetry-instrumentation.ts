/**
 * OpenTelemetry metrics and spans of a keyward instance on `@opentelemetry/api`
 * (docs/architecture.md, "Metrics"), behind the `@keyward/core/opentelemetry` entry. The same
 * observations as the Prometheus metrics (`keyward-observer.ts`), as OpenTelemetry instruments,
 * plus a `keyward.verify` span per verification. Which providers record is decided when
 * `instrument` is called: with no SDK registered (the API's no-op providers) and none passed in,
 * nothing is attached at all — no listener, no wrapper — so it costs nothing.
 */
import {
  type Attributes,
  type BatchObservableResult,
  createNoopMeter,
  type MeterProvider,
  metrics,
  type Observable,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import type { Keyward, VerifyWrapper } from '../keyward/create-keyward.ts'
import type { VerifyResult } from '../types.ts'
import { checkObject } from '../validation.ts'
import { keywardReadings, observeKeyward } from './keyward-observer.ts'

export interface OpenTelemetryOptions {
  /** Where metrics go. @default the global provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider
  /** Where spans go. @default the global provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider
}

export interface KeywardInstrumentation {
  /** True when metrics are recorded: a meter provider was passed, or an SDK had registered one. */
  readonly metrics: boolean
  /** True when `keyward.verify` spans are recorded (likewise for tracing). */
  readonly traces: boolean
  /** Stops recording: listeners, the verify wrapper and observable callbacks are removed. */
  close(): void
}

const SCOPE = '@keyward/core'
const VERIFY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
/** What the global tracer provider delegates to while no SDK has registered one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate()

function isNoop(provider: TracerProvider): boolean {
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_TRACER_PROVIDER
}

const codeOf = (result: VerifyResult) => (result.valid ? 'VALID' : result.code)

/**
 * Records keyward's metrics and a span per `verify` with OpenTelemetry. Call it after the SDK is
 * started (e.g. `new NodeSDK(…).start()`), or pass the providers: with neither, it attaches nothing.
 *
 * @example
 * import { instrument } from '@keyward/core/opentelemetry'
 * const instrumentation = instrument(keyward) // the global providers of the registered SDK
 */
export function instrument(keyward: Keyward, options: OpenTelemetryOptions = {}): KeywardInstrumentation {
  checkObject('options', options)
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider()
  const recordsMetrics = meter !== createNoopMeter()
  const recordsTraces = !isNoop(tracerProvider)
  const stops: (() => void)[] = []

  let verifyDuration: ((seconds: number) => void) | null = null
  if (recordsMetrics) {
    const verifications = meter.createCounter('keyward.verifications', {
      description: 'Verifications by outcome: VALID or the VerifyCode.',
    })
    const duration = meter.createHistogram('keyward.verify.duration', {
      description: 'Time keyward.verify took, whatever the outcome.',
      unit: 's',
      advice: { explicitBucketBoundaries: VERIFY_BUCKETS },
    })
    verifyDuration = (seconds) => duration.record(seconds)
    const flushes = meter.createCounter('keyward.usage.flushes', {
      description: 'Usage flushes by outcome (ok, or error: retried at the next flush).',
    })
    const flushDuration = meter.createHistogram('keyward.usage.flush.duration', {
      description: 'Time a usage flush took.',
      unit: 's',
    })
    const storeErrors = meter.createCounter('keyward.store.errors', {
      description:
        'Store failures, by operation (verify: answered UNAVAILABLE; usage: a flush; abuse, purge: background tasks).',
    })
    const abuseEvents = meter.createCounter('keyward.abuse.events', {
      description: 'Abuse events this process emitted, by kind.',
    })
    stops.push(
      observeKeyward(keyward, {
        verification: (code) => verifications.add(1, { 'keyward.code': code }),
        usageFlush(ok, seconds) {
          flushes.add(1, { 'keyward.outcome': ok ? 'ok' : 'error' })
          flushDuration.record(seconds)
        },
        abuse: (kind) => abuseEvents.add(1, { 'keyward.abuse.kind': kind }),
        storeError: (operation) => storeErrors.add(1, { 'keyward.operation': operation }),
      }),
    )

    const read = keywardReadings(keyward)
    const pending = meter.createObservableGauge('keyward.usage.pending', {
      description: 'Usage entries waiting to be written to the store.',
    })
    const lag = meter.createObservableGauge('keyward.usage.flush.lag', {
      description:
        'Seconds since the last successful usage flush while counts are pending (0 when none are).',
      unit: 's',
    })
    const dropped = meter.createObservableCounter('keyward.usage.dropped', {
      description: 'Usage dropped past usage.maxPending or at close with the store down, by what.',
    })
    const abuseDropped = meter.createObservableCounter('keyward.abuse.dropped_observations', {
      description: 'Requests whose abuse observation was dropped (abuse.maxKeys reached, or a failed flush).',
    })
    const observables: Observable<Attributes>[] = [pending, lag, dropped, abuseDropped]
    const withCache = typeof keyward.store.cacheStats === 'function'
    const lookups = meter.createObservableCounter('keyward.store.cache.lookups', {
      description: "Record lookups by the store's process-local cache, by result (hit, miss).",
    })
    const entries = meter.createObservableGauge('keyward.store.cache.entries', {
      description: "Records held in the store's process-local cache.",
    })
    if (withCache) observables.push(lookups, entries)
    const observe = (result: BatchObservableResult) => {
      const readings = read()
      result.observe(pending, readings.usagePending)
      result.observe(lag, readings.usageFlushLagSeconds)
      result.observe(dropped, readings.usageDroppedVerifications, { 'keyward.what': 'verifications' })
      result.observe(dropped, readings.usageDroppedLogEntries, { 'keyward.what': 'log_entries' })
      result.observe(abuseDropped, readings.abuseDroppedObservations)
      if (readings.cache !== null) {
        result.observe(lookups, readings.cache.hits, { 'keyward.result': 'hit' })
        result.observe(lookups, readings.cache.misses, { 'keyward.result': 'miss' })
        result.observe(entries, readings.cache.size)
      }
    }
    meter.addBatchObservableCallback(observe, observables)
    stops.push(() => meter.removeBatchObservableCallback(observe, observables))
  }

  if (recordsTraces || verifyDuration !== null) {
    stops.push(
      keyward.wrapVerify(recordsTraces ? traced(tracerProvider, verifyDuration) : timed(verifyDuration!)),
    )
  }

  return {
    metrics: recordsMetrics,
    traces: recordsTraces,
    close() {
      for (const stop of stops.splice(0)) stop()
    },
  }
}

/** Times `verify` for the duration histogram. */
function timed(record: (seconds: number) => void): VerifyWrapper {
  return (next) => async (token, options) => {
    const started = performance.now()
    const result = await next(token, options)
    record((performance.now() - started) / 1000)
    return result
  }
}

/** Runs `verify` in a `keyward.verify` span (active, so store spans nest in it), and times it. */
function traced(provider: TracerProvider, record: ((seconds: number) => void) | null): VerifyWrapper {
  const tracer = provider.getTracer(SCOPE)
  return (next) => (token, options) =>
    tracer.startActiveSpan('keyward.verify', { kind: SpanKind.INTERNAL }, async (span) => {
      const started = performance.now()
      const result = await next(token, options)
      const code = codeOf(result)
      span.setAttribute('keyward.code', code)
      // The id is public (in every key, log and event); the key itself never goes into a span.
      const key = result.valid ? result.key : 'key' in result ? result.key : undefined
      if (key !== undefined) span.setAttribute('keyward.key.id', key.id)
      // A rejected key is a normal outcome; only a store that failed is an error of the operation.
      if (code === 'UNAVAILABLE') span.setStatus({ code: SpanStatusCode.ERROR, message: 'store unavailable' })
      span.end()
      record?.((performance.now() - started) / 1000)
      return result
    })
}
