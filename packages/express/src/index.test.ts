import { ConfigError, createKeyward } from '@keyward/core'
import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { apiKeyAuth, requireScopes } from './index.ts'

describe('@keyward/express', () => {
  it('returns named async middleware', () => {
    const keyward = createKeyward()
    // Transpilers may suffix a shadowing name (apiKeyAuth2); it stays named for stack traces.
    expect(apiKeyAuth(keyward).name).toMatch(/^apiKeyAuth\d*$/)
    expect(requireScopes('a').name).toMatch(/^requireScopes\d*$/)
    expect(apiKeyAuth(keyward).constructor.name).toBe('AsyncFunction')
  })

  it('throws ConfigError when the factory is called with a bad option, not per request', () => {
    const keyward = createKeyward()
    expect(() => apiKeyAuth(keyward, { realm: '"' })).toThrow(ConfigError)
    expect(() => apiKeyAuth(keyward, { skip: 'yes' as never })).toThrow(ConfigError)
    expect(() => apiKeyAuth(keyward, { onRejected: 1 as never })).toThrow(ConfigError)
    expect(() => requireScopes('two words')).toThrow(ConfigError)
    expect(() => apiKeyAuth(undefined as never)).toThrow(ConfigError)
  })

  it('puts the key on req.apiKey for the handler', async () => {
    const keyward = createKeyward()
    const { key, record } = await keyward.keys.create({ ownerId: 'org_1' })
    const app = express().get('/', apiKeyAuth(keyward), (req, res) => {
      res.json({ id: req.apiKey?.id })
    })
    const response = await request(app).get('/').set('X-API-Key', key)
    expect(response.body).toEqual({ id: record.id })
  })
})
