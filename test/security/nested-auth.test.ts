/**
 * Finding 10: the README's own pattern — `apiKeyAuth` on `/v1`, again on `/v1/report` with
 * `cost: 5` — verified twice: 2 rate-limit points and 6 credits for one request. A second
 * `apiKeyAuth` on an authenticated request checks its own scopes and brings the request's spend up
 * to its own cost; it does not verify again. The same in all three adapters.
 */
import { getRequestListener } from '@hono/node-server'
import { createKeyward, type Keyward } from '@keyward/core'
import * as keywardExpress from '@keyward/express'
import * as keywardHono from '@keyward/hono'
import * as keywardKoa from '@keyward/koa'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import request from 'supertest'
import { describe, expect, it } from 'vitest'

type App = (keyward: Keyward) => Parameters<typeof request>[0]

const apps: Record<string, App> = {
  express(keyward) {
    const app = express()
    app.use('/v1', keywardExpress.apiKeyAuth(keyward))
    app.get(
      '/v1/report',
      keywardExpress.apiKeyAuth(keyward, { scopes: 'reports:read', cost: 5 }),
      (_req, res) => {
        res.json({ ok: true })
      },
    )
    return app
  },
  hono(keyward) {
    const app = new Hono()
    app.use('/v1/*', keywardHono.apiKeyAuth(keyward))
    app.get('/v1/report', keywardHono.apiKeyAuth(keyward, { scopes: 'reports:read', cost: 5 }), (c) =>
      c.json({ ok: true }),
    )
    return getRequestListener(app.fetch)
  },
  koa(keyward) {
    const app = new Koa()
    const outer = keywardKoa.apiKeyAuth(keyward)
    const inner = keywardKoa.apiKeyAuth(keyward, { scopes: 'reports:read', cost: 5 })
    app.use(outer)
    app.use(async (ctx, next) => {
      if (ctx.path !== '/v1/report') return next()
      await inner(ctx, async () => {
        ctx.body = { ok: true }
      })
    })
    return app.callback()
  },
}

describe.each(Object.keys(apps))('nested apiKeyAuth (%s)', (adapter) => {
  const build = apps[adapter] as App

  it('takes one rate-limit point and the route cost once', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key, record } = await keyward.keys.create({
      ownerId: 'org',
      scopes: ['reports:read'],
      rateLimit: { points: 10, duration: 60 },
      credits: { remaining: 100 },
    })
    const server = build(keyward)
    const response = await request(server).get('/v1/report').set('Authorization', `Bearer ${key}`)
    expect(response.status).toBe(200)
    expect(response.headers.ratelimit).toBe('"10-per-60s";r=9;t=60')
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(95)
    // The next request sees one point taken per request, not two.
    const next = await request(server).get('/v1/report').set('Authorization', `Bearer ${key}`)
    expect(next.headers.ratelimit).toBe('"10-per-60s";r=8;t=60')
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(90)
    // Usage counts each request once, with all the credits it spent.
    const usage = await keyward.usage.get({ keyId: record.id }, { from: new Date(Date.now() - 60_000) })
    expect(usage.totals.counts.VALID).toBe(2)
    expect(usage.totals.credits).toBe(10)
  })

  it("checks the inner middleware's own scopes against the verified key", async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key } = await keyward.keys.create({ ownerId: 'org', scopes: ['orders:read'] })
    const response = await request(build(keyward)).get('/v1/report').set('Authorization', `Bearer ${key}`)
    expect(response.status).toBe(403)
    expect(response.body.code).toBe('INSUFFICIENT_SCOPE')
  })

  it('answers 429 quota-exceeded when the credits cannot cover the inner cost, spending nothing more', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key, record } = await keyward.keys.create({
      ownerId: 'org',
      scopes: ['reports:read'],
      credits: { remaining: 3 },
    })
    const response = await request(build(keyward)).get('/v1/report').set('Authorization', `Bearer ${key}`)
    expect(response.status).toBe(429)
    expect(response.body.code).toBe('QUOTA_EXCEEDED')
    // The outer middleware's 1 credit was spent; the inner one's top-up of 4 was refused whole.
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(2)
  })
})
