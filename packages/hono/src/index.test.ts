import { ConfigError, createKeyward } from '@keyward/core'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { apiKeyAuth, requireScopes, type Variables } from './index.ts'

describe('@keyward/hono', () => {
  it('returns named async middleware', () => {
    const keyward = createKeyward()
    // Transpilers may suffix a shadowing name (apiKeyAuth2); it stays named for stack traces.
    expect(apiKeyAuth(keyward).name).toMatch(/^apiKeyAuth\d*$/)
    expect(requireScopes('a').name).toMatch(/^requireScopes\d*$/)
  })

  it('throws ConfigError when the factory is called with a bad option, not per request', () => {
    const keyward = createKeyward()
    expect(() => apiKeyAuth(keyward, { query: 'a b' })).toThrow(ConfigError)
    expect(() => apiKeyAuth(keyward, { cost: -1 })).toThrow(ConfigError)
    expect(() => requireScopes('')).toThrow(ConfigError)
  })

  it('sets apiKey for the handler, with app.request as well (no socket: the guard does not apply)', async () => {
    const keyward = createKeyward()
    const { key, record } = await keyward.keys.create({
      ownerId: 'org_1',
      rateLimit: { points: 9, duration: 60 },
    })
    const app = new Hono<{ Variables: Variables }>().get('/', apiKeyAuth(keyward), (c) =>
      c.json({ id: c.get('apiKey').id }),
    )
    const response = await app.request('/', { headers: { 'X-API-Key': key } })
    expect(await response.json()).toEqual({ id: record.id })
    expect(response.headers.get('RateLimit')).toBe('"9-per-60s";r=8;t=60')
  })

  it('uses clientAddress(c) for the brute-force guard when given', async () => {
    const keyward = createKeyward({ bruteForce: { points: 1, duration: 60, blockDuration: 60 } })
    const app = new Hono().get('/', apiKeyAuth(keyward, { clientAddress: () => '203.0.113.9' }), (c) =>
      c.text('ok'),
    )
    expect((await app.request('/', { headers: { 'X-API-Key': 'bad' } })).status).toBe(401)
    expect((await app.request('/', { headers: { 'X-API-Key': 'bad' } })).status).toBe(429)
  })
})
