/**
 * Finding 3, the proxy part: the README said "behind a proxy, set Express's `trust proxy`" (and
 * Koa's `app.proxy = true`). Set to `true`, both take the client address from the leftmost
 * `X-Forwarded-For` entry — which the client writes — so one attacker with 100 made-up keys and
 * 100 made-up addresses was never blocked (100 of 100 got a 401). With a setting that trusts every
 * hop, the adapters now count by the socket address, warn once per process, and the docs recommend
 * the hop count or the proxy's address — with which `X-Forwarded-For` is honoured as intended.
 */
import { createKeyward } from '@keyward/core'
import * as keywardExpress from '@keyward/express'
import * as keywardKoa from '@keyward/koa'
import express from 'express'
import Koa from 'koa'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const POINTS = 5

function madeUpKey(): string {
  // A malformed key is a failed attempt too; it keeps this file free of store set-up.
  return `sec_live_${Math.random().toString(36).slice(2)}`
}

function expressApp(trustProxy: boolean | number) {
  const keyward = createKeyward({
    prefix: 'sec',
    bruteForce: { points: POINTS, duration: 60, blockDuration: 300 },
  })
  const app = express()
  app.set('trust proxy', trustProxy)
  app.get('/', keywardExpress.apiKeyAuth(keyward), (_req, res) => {
    res.json({ ok: true })
  })
  return app
}

function koaApp(proxy: boolean, maxIpsCount: number) {
  const keyward = createKeyward({
    prefix: 'sec',
    bruteForce: { points: POINTS, duration: 60, blockDuration: 300 },
  })
  const app = new Koa()
  app.proxy = proxy
  app.maxIpsCount = maxIpsCount
  app.use(keywardKoa.apiKeyAuth(keyward))
  app.use((ctx) => {
    ctx.body = { ok: true }
  })
  return app.callback()
}

/** 100 made-up keys, each with another made-up `X-Forwarded-For`. */
async function spoofedAttack(app: Parameters<typeof request>[0]): Promise<Record<number, number>> {
  const counts: Record<number, number> = {}
  for (let index = 0; index < 100; index++) {
    const response = await request(app)
      .get('/')
      .set('X-Forwarded-For', `203.0.113.${index}`)
      .set('X-API-Key', madeUpKey())
    counts[response.status] = (counts[response.status] ?? 0) + 1
  }
  return counts
}

const warnings: Error[] = []
const onWarning = (warning: Error) => warnings.push(warning)
beforeEach(() => {
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})
const proxyWarnings = () =>
  warnings.filter(
    (warning) => (warning as Error & { code?: string }).code === 'KEYWARD_PERMISSIVE_TRUST_PROXY',
  )

describe('a spoofed X-Forwarded-For', () => {
  it("does not get past the guard with Express's `trust proxy` = true", async () => {
    expect(await spoofedAttack(expressApp(true))).toEqual({ 401: POINTS, 429: 100 - POINTS })
    await new Promise((resolve) => setImmediate(resolve))
    expect(proxyWarnings()).toHaveLength(1)
    expect(proxyWarnings()[0]?.message).toMatch(/trust proxy/)
  })

  it('does not get past the guard with Koa `app.proxy = true` and no maxIpsCount', async () => {
    expect(await spoofedAttack(koaApp(true, 0))).toEqual({ 401: POINTS, 429: 100 - POINTS })
    await new Promise((resolve) => setImmediate(resolve))
    expect(
      proxyWarnings()
        .map((warning) => warning.message)
        .filter((text) => /app\.proxy/.test(text)),
    ).toHaveLength(1)
  })

  it('warns once per process, not per request or per app', async () => {
    const before = proxyWarnings().length
    await spoofedAttack(expressApp(true))
    await spoofedAttack(koaApp(true, 0))
    await new Promise((resolve) => setImmediate(resolve))
    expect(proxyWarnings().length).toBe(before)
  })
})

describe('the recommended proxy settings', () => {
  it('Express `trust proxy` = 1 (one proxy in front) counts each client by its forwarded address', async () => {
    const before = proxyWarnings().length
    expect(await spoofedAttack(expressApp(1))).toEqual({ 401: 100 })
    expect(proxyWarnings().length).toBe(before)
  })

  it('Koa `app.proxy = true` with `maxIpsCount = 1` does the same', async () => {
    expect(await spoofedAttack(koaApp(true, 1))).toEqual({ 401: 100 })
  })
})
