import { ConfigError, createKeyward } from '@keyward/core'
import Koa from 'koa'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { apiKeyAuth, type KeywardState, requireScopes } from './index.ts'

describe('@keyward/koa', () => {
  it('returns named async middleware', () => {
    const keyward = createKeyward()
    // Transpilers may suffix a shadowing name (apiKeyAuth2); it stays named for stack traces.
    expect(apiKeyAuth(keyward).name).toMatch(/^apiKeyAuth\d*$/)
    expect(requireScopes('a').name).toMatch(/^requireScopes\d*$/)
  })

  it('throws ConfigError when the factory is called with a bad option, not per request', () => {
    const keyward = createKeyward()
    expect(() => apiKeyAuth(keyward, { headers: ['x y'] })).toThrow(ConfigError)
    expect(() => apiKeyAuth(keyward, { clientAddress: 'ip' as never })).toThrow(ConfigError)
    expect(() => requireScopes({ anyOf: 'a' } as never)).toThrow(ConfigError)
  })

  it('puts the key on ctx.state.apiKey for downstream middleware', async () => {
    const keyward = createKeyward()
    const { key, record } = await keyward.keys.create({ ownerId: 'org_1' })
    const app = new Koa<KeywardState>().use(apiKeyAuth(keyward)).use((ctx) => {
      ctx.body = { id: ctx.state.apiKey?.id }
    })
    const response = await request(app.callback()).get('/').set('Authorization', `Bearer ${key}`)
    expect(response.body).toEqual({ id: record.id })
  })
})

describe('@keyward/koa client address', () => {
  it('checks allowedNetworks against the socket address, or a ctx.request.ip set by earlier middleware', async () => {
    const keyward = createKeyward()
    const { key } = await keyward.keys.create({ ownerId: 'org_1', allowedNetworks: ['10.0.0.0/8'] })
    const app = (setIp: string | null) => {
      const koa = new Koa<KeywardState>()
      if (setIp !== null) {
        koa.use((ctx, next) => {
          ctx.request.ip = setIp
          return next()
        })
      }
      return koa
        .use(apiKeyAuth(keyward))
        .use((ctx) => {
          ctx.body = { ok: true }
        })
        .callback()
    }
    // supertest connects over loopback: 127.0.0.1 is outside 10.0.0.0/8.
    const fromSocket = await request(app(null)).get('/').set('Authorization', `Bearer ${key}`)
    expect(fromSocket.status).toBe(403)
    const fromSetIp = await request(app('10.1.2.3')).get('/').set('Authorization', `Bearer ${key}`)
    expect(fromSetIp.status).toBe(200)
    const outside = await request(app('192.0.2.1')).get('/').set('Authorization', `Bearer ${key}`)
    expect(outside.status).toBe(403)
  })
})
