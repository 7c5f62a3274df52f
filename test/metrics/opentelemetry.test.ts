/**
 * `@keyward/core/opentelemetry` with the SDK's in-memory exporters: a `keyward.verify` span per
 * verification and keyward's metrics as OpenTelemetry instruments, through providers passed in
 * and through the global ones an SDK registers — and nothing at all attached when no SDK is there.
 */
import { createKeyward, type Keyward, parseKey, StoreError } from '@keyward/core'
import { instrument } from '@keyward/core/opentelemetry'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api'
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterEach, describe, expect, it } from 'vitest'

function withOtherSecret(key: string): string {
  const parsed = parseKey(key)!
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

/** An SDK in miniature: providers whose spans and metrics land in memory. */
function sdk() {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  return {
    tracerProvider,
    meterProvider,
    spans: () => spans.getFinishedSpans(),
    /** Collects now and answers the latest export, by instrument name. */
    async metrics(): Promise<Map<string, MetricData>> {
      await reader.forceFlush()
      const latest = exporter.getMetrics().at(-1)
      const all = latest?.scopeMetrics.flatMap((scope) => scope.metrics) ?? []
      return new Map(all.map((metric) => [metric.descriptor.name, metric]))
    },
    async shutdown() {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    },
  }
}

/** The value of the data point of `metric` whose attributes include `attributes`. */
function pointOf(metric: MetricData | undefined, attributes: Record<string, string> = {}): unknown {
  const point = (metric?.dataPoints as DataPoint<unknown>[] | undefined)?.find((candidate) =>
    Object.entries(attributes).every(([name, value]) => candidate.attributes[name] === value),
  )
  if (point === undefined) throw new Error(`no data point with ${JSON.stringify(attributes)}`)
  return point.value
}

const opened: Keyward[] = []
afterEach(async () => {
  for (const keyward of opened.splice(0)) await keyward.close()
  trace.disable()
  metrics.disable()
})

function keywardFor(options: Parameters<typeof createKeyward>[0] = {}): Keyward {
  const keyward = createKeyward({ prefix: 'acme', ...options })
  opened.push(keyward)
  return keyward
}

describe('instrument (OpenTelemetry)', () => {
  it('records a span per verify and keyward’s metrics into the providers passed in', async () => {
    const otel = sdk()
    const keyward = keywardFor({ abuse: { wrongSecret: { threshold: 2 } } })
    const instrumentation = instrument(keyward, {
      meterProvider: otel.meterProvider,
      tracerProvider: otel.tracerProvider,
    })
    expect(instrumentation).toMatchObject({ metrics: true, traces: true })
    const { key, record } = await keyward.keys.create({ ownerId: 'org_o' })
    for (let i = 0; i < 2; i++) expect((await keyward.verify(key)).valid).toBe(true)
    for (let i = 0; i < 2; i++) await keyward.verify(withOtherSecret(key))
    await keyward.verify('acme_live_garbage')
    await keyward.usage.flush()
    await keyward.abuse.flush()

    const spans = otel.spans()
    expect(
      spans.map((span) => [span.name, span.attributes['keyward.code'], span.attributes['keyward.key.id']]),
    ).toEqual([
      ['keyward.verify', 'VALID', record.id],
      ['keyward.verify', 'VALID', record.id],
      ['keyward.verify', 'NOT_FOUND', undefined],
      ['keyward.verify', 'NOT_FOUND', undefined],
      ['keyward.verify', 'MALFORMED', undefined],
    ])
    expect(spans.every((span) => span.status.code === SpanStatusCode.UNSET)).toBe(true)
    // Never the key, in any attribute.
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain(key.slice(-20))

    const recorded = await otel.metrics()
    expect(pointOf(recorded.get('keyward.verifications'), { 'keyward.code': 'VALID' })).toBe(2)
    expect(pointOf(recorded.get('keyward.verifications'), { 'keyward.code': 'NOT_FOUND' })).toBe(2)
    expect(pointOf(recorded.get('keyward.verifications'), { 'keyward.code': 'MALFORMED' })).toBe(1)
    const duration = recorded.get('keyward.verify.duration')
    expect(duration?.descriptor.unit).toBe('s')
    expect((pointOf(duration) as Histogram).count).toBe(5)
    expect(
      pointOf(recorded.get('keyward.usage.flushes'), { 'keyward.outcome': 'ok' }),
    ).toBeGreaterThanOrEqual(1)
    expect(pointOf(recorded.get('keyward.abuse.events'), { 'keyward.abuse.kind': 'wrong-secret' })).toBe(1)
    expect(pointOf(recorded.get('keyward.usage.pending'))).toBe(0)
    expect(pointOf(recorded.get('keyward.usage.flush.lag'))).toBe(0)
    expect(pointOf(recorded.get('keyward.usage.dropped'), { 'keyward.what': 'verifications' })).toBe(0)
    // MemoryStore has no record cache.
    expect(recorded.has('keyward.store.cache.lookups')).toBe(false)

    instrumentation.close()
    await keyward.verify(key)
    expect(otel.spans()).toHaveLength(5)
    await otel.shutdown()
  })

  it('marks a verify whose store failed as an error span', async () => {
    const otel = sdk()
    const keyward = keywardFor()
    instrument(keyward, { tracerProvider: otel.tracerProvider })
    const { key } = await keyward.keys.create({ ownerId: 'org_o' })
    keyward.store.get = async () => {
      throw new StoreError('keyward: down (test)')
    }
    ;(keyward.store as { peek?: unknown }).peek = () => undefined
    expect(await keyward.verify(key)).toMatchObject({ code: 'UNAVAILABLE' })
    expect(otel.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR)
    await otel.shutdown()
  })

  it('uses the global providers an SDK registered', async () => {
    const otel = sdk()
    metrics.setGlobalMeterProvider(otel.meterProvider)
    trace.setGlobalTracerProvider(otel.tracerProvider)
    const keyward = keywardFor()
    expect(instrument(keyward)).toMatchObject({ metrics: true, traces: true })
    const { key } = await keyward.keys.create({ ownerId: 'org_o' })
    await keyward.verify(key)
    expect(otel.spans().map((span) => span.name)).toEqual(['keyward.verify'])
    expect(pointOf((await otel.metrics()).get('keyward.verifications'), { 'keyward.code': 'VALID' })).toBe(1)
    await otel.shutdown()
  })

  it('attaches nothing when no SDK is registered: verify stays the bare pipeline, no listener is added', async () => {
    const keyward = keywardFor()
    const bare = keyward.verify
    const instrumentation = instrument(keyward)
    expect(instrumentation).toMatchObject({ metrics: false, traces: false })
    expect(keyward.verify).toBe(bare)
    expect(keyward.events.has('verification')).toBe(false)
    instrumentation.close()
  })
})
