/**
 * `@keyward/core/prometheus` after real verifications, read back with a real exposition-format
 * parser: verifications by code, the verify latency histogram, usage flushes and their lag, drops,
 * store errors, abuse events by kind, the Redis record cache — and `/metrics` served over real
 * HTTP by Express, Hono and Koa, each with the one-liner the README shows.
 */
import { getRequestListener } from '@hono/node-server'
import { createKeyward, type Keyward, MemoryStore, parseKey, StoreError } from '@keyward/core'
import { prometheusMetrics } from '@keyward/core/prometheus'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { close, listen } from '../conformance/adapters.ts'
import { testClock } from '../support/core-fixtures.ts'
import { family, parsePrometheus, sampleOf, sampleValue } from '../support/prometheus-text.ts'
import { singleNodeClient, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import { startRedisServer } from '../support/redis-server.ts'

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function withOtherSecret(key: string): string {
  const parsed = parseKey(key)!
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

const opened: Keyward[] = []
afterAll(async () => {
  for (const keyward of opened) await keyward.close()
})

function keywardFor(options: Parameters<typeof createKeyward>[0] = {}): Keyward {
  const keyward = createKeyward({ prefix: 'acme', ...options })
  opened.push(keyward)
  return keyward
}

describe('prometheusMetrics', () => {
  it('counts verifications by code, times verify, and reports flushes and abuse events, as a parser reads them', async () => {
    const keyward = keywardFor({ abuse: { wrongSecret: { threshold: 3 } } })
    const metrics = prometheusMetrics(keyward)
    const { key } = await keyward.keys.create({ ownerId: 'org_m', rateLimit: { points: 2, duration: 60 } })
    for (let i = 0; i < 2; i++) expect((await keyward.verify(key)).valid).toBe(true)
    expect(await keyward.verify(key)).toMatchObject({ code: 'RATE_LIMITED' })
    for (let i = 0; i < 3; i++)
      expect(await keyward.verify(withOtherSecret(key))).toMatchObject({ code: 'NOT_FOUND' })
    expect(await keyward.verify('acme_live_garbage')).toMatchObject({ code: 'MALFORMED' })
    await keyward.usage.flush()
    await keyward.abuse.flush()

    const families = parsePrometheus(await metrics.metrics())
    expect(family(families, 'keyward_verifications_total').type).toBe('COUNTER')
    expect(sampleValue(families, 'keyward_verifications_total', { code: 'VALID' })).toBe(2)
    expect(sampleValue(families, 'keyward_verifications_total', { code: 'RATE_LIMITED' })).toBe(1)
    expect(sampleValue(families, 'keyward_verifications_total', { code: 'NOT_FOUND' })).toBe(3)
    expect(sampleValue(families, 'keyward_verifications_total', { code: 'MALFORMED' })).toBe(1)
    // Every outcome is there from the start, at zero, so rate() has a series to work on.
    expect(sampleValue(families, 'keyward_verifications_total', { code: 'EXPIRED' })).toBe(0)

    expect(family(families, 'keyward_verify_duration_seconds').type).toBe('HISTOGRAM')
    const latency = sampleOf(families, 'keyward_verify_duration_seconds')
    expect(Number(latency.count)).toBe(7)
    expect(Number(latency.buckets?.['+Inf'])).toBe(7)
    expect(Number(latency.sum)).toBeGreaterThan(0)
    expect(Number(latency.sum)).toBeLessThan(7)

    expect(sampleValue(families, 'keyward_usage_flushes_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1)
    expect(sampleValue(families, 'keyward_usage_flushes_total', { outcome: 'error' })).toBe(0)
    expect(Number(sampleOf(families, 'keyward_usage_flush_duration_seconds').count)).toBeGreaterThanOrEqual(1)
    expect(sampleValue(families, 'keyward_usage_pending')).toBe(0)
    expect(sampleValue(families, 'keyward_usage_flush_lag_seconds')).toBe(0)
    expect(sampleValue(families, 'keyward_usage_dropped_total', { what: 'verifications' })).toBe(0)
    expect(sampleValue(families, 'keyward_abuse_events_total', { kind: 'wrong-secret' })).toBe(1)
    expect(sampleValue(families, 'keyward_abuse_events_total', { kind: 'spike' })).toBe(0)
    expect(sampleValue(families, 'keyward_store_errors_total', { operation: 'verify' })).toBe(0)
    // MemoryStore has no record cache: no cache metrics.
    expect(families.some((candidate) => candidate.name.startsWith('keyward_store_cache'))).toBe(false)
  })

  it('counts store errors, failed flushes and the lag while usage cannot be written', async () => {
    const store = new MemoryStore()
    const clock = testClock()
    const keyward = keywardFor({ store, now: clock })
    const metrics = prometheusMetrics(keyward)
    const { key } = await keyward.keys.create({ ownerId: 'org_m' })
    const get = store.get.bind(store)
    const peek = store.peek.bind(store)
    store.get = async () => {
      throw new StoreError('keyward: down (test)')
    }
    store.peek = () => undefined
    expect(await keyward.verify(key)).toMatchObject({ code: 'UNAVAILABLE' })
    store.get = get
    store.peek = peek
    store.recordUsage = async () => {
      throw new StoreError('keyward: down (test)')
    }
    await expect(keyward.usage.flush()).rejects.toThrow(StoreError)
    clock.advance(42_000)

    const families = parsePrometheus(await metrics.metrics())
    expect(sampleValue(families, 'keyward_verifications_total', { code: 'UNAVAILABLE' })).toBe(1)
    expect(sampleValue(families, 'keyward_store_errors_total', { operation: 'verify' })).toBe(1)
    expect(sampleValue(families, 'keyward_store_errors_total', { operation: 'usage' })).toBe(1)
    expect(sampleValue(families, 'keyward_usage_flushes_total', { outcome: 'error' })).toBe(1)
    expect(sampleValue(families, 'keyward_usage_pending')).toBeGreaterThan(0)
    expect(sampleValue(families, 'keyward_usage_flush_lag_seconds')).toBe(42)
  })

  it('reports the Redis record cache: lookups by result, the hit ratio and the entries held', async () => {
    const server = await startRedisServer()
    const client = singleNodeClient(server)
    await client.connect()
    try {
      const store = new RedisStore({ client })
      await until(() => subscribed(store), 'the store to subscribe', 10_000)
      const keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store })
      const metrics = prometheusMetrics(keyward)
      const { key } = await keyward.keys.create({ ownerId: 'org_m' })
      for (let i = 0; i < 10; i++) expect((await keyward.verify(key)).valid).toBe(true)
      const families = parsePrometheus(await metrics.metrics())
      const hits = sampleValue(families, 'keyward_store_cache_lookups_total', { result: 'hit' })
      const misses = sampleValue(families, 'keyward_store_cache_lookups_total', { result: 'miss' })
      expect(misses).toBeGreaterThanOrEqual(1)
      expect(hits).toBeGreaterThanOrEqual(9)
      expect(sampleValue(families, 'keyward_store_cache_hit_ratio')).toBeCloseTo(hits / (hits + misses), 6)
      expect(sampleValue(families, 'keyward_store_cache_entries')).toBeGreaterThanOrEqual(1)
      expect(store.cacheStats()).toMatchObject({ hits, misses })
      await keyward.close()
    } finally {
      client.disconnect()
      await server.dispose()
    }
  })

  it('costs nothing once closed: verify is the bare pipeline again and the metrics are gone', async () => {
    const keyward = keywardFor()
    const bare = keyward.verify
    const registry = new Registry()
    const metrics = prometheusMetrics(keyward, { registry, prefix: 'api_keys_' })
    expect(keyward.verify).not.toBe(bare)
    expect(await registry.metrics()).toContain('api_keys_verifications_total')
    metrics.close()
    expect(keyward.verify).toBe(bare)
    expect(await registry.metrics()).not.toContain('api_keys_')
    // The same names can be registered again.
    prometheusMetrics(keyward, { registry, prefix: 'api_keys_' }).close()
  })

  it('refuses a bad prefix or bucket list with a ConfigError naming it', () => {
    const keyward = keywardFor()
    expect(() => prometheusMetrics(keyward, { prefix: 'api-keys' })).toThrow(
      expect.objectContaining({ name: 'ConfigError', option: 'prefix' }),
    )
    expect(() => prometheusMetrics(keyward, { verifyBuckets: [] })).toThrow(
      expect.objectContaining({ name: 'ConfigError', option: 'verifyBuckets' }),
    )
  })
})

describe('/metrics over HTTP', () => {
  const keyward = keywardFor()
  const metrics = prometheusMetrics(keyward, { registry: new Registry() })

  const express_ = express()
  express_.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics())
  })
  const hono = new Hono()
  hono.get('/metrics', async (c) =>
    c.body(await metrics.metrics(), 200, { 'Content-Type': metrics.contentType }),
  )
  const koa = new Koa()
  koa.use(async (ctx, next) => {
    if (ctx.path !== '/metrics') return next()
    ctx.type = metrics.contentType
    ctx.body = await metrics.metrics()
  })

  it.each([
    ['Express', () => express_],
    ['Hono', () => getRequestListener(hono.fetch)],
    ['Koa', () => koa.callback()],
  ])('%s serves the registry as Prometheus text', async (_name, listener) => {
    const { key } = await keyward.keys.create({ ownerId: 'org_http' })
    const before = parsePrometheus(await metrics.metrics())
    const valid = sampleValue(before, 'keyward_verifications_total', { code: 'VALID' })
    await keyward.verify(key)
    const { server, url } = await listen(listener())
    try {
      const response = await fetch(`${url}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe(CONTENT_TYPE)
      const families = parsePrometheus(await response.text())
      expect(sampleValue(families, 'keyward_verifications_total', { code: 'VALID' })).toBe(valid + 1)
    } finally {
      await close(server)
    }
  })
})
