/**
 * Finding 11: `Authorization: <key>` without a scheme, or `Basic …`, answered "This request needs an
 * API key" although a key was sent. The status stays RFC 6750's 401 with a bare challenge, but the
 * detail says which headers and scheme are accepted.
 */
import { createKeyward } from '@keyward/core'
import { apiKeyAuth } from '@keyward/express'
import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'

async function app(headers?: string[]) {
  const keyward = createKeyward({ prefix: 'sec' })
  const { key } = await keyward.keys.create({ ownerId: 'org' })
  const server = express().get(
    '/',
    apiKeyAuth(keyward, headers === undefined ? {} : { headers }),
    (_req, res) => {
      res.json({ ok: true })
    },
  )
  return { server, key }
}

describe('a key sent with the wrong scheme', () => {
  it('answers Authorization: <key> (no scheme) with 401 naming Bearer and X-API-Key', async () => {
    const { server, key } = await app()
    const response = await request(server).get('/').set('Authorization', key)
    expect(response.status).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(response.body.code).toBe('MISSING')
    expect(response.body.detail).toContain('Authorization: Bearer')
    expect(response.body.detail).toContain('X-API-Key')
    expect(response.body.detail).toMatch(/scheme/i)
    expect(response.text).not.toContain(key)
  })

  it('answers Authorization: Basic … the same way', async () => {
    const { server } = await app()
    const response = await request(server).get('/').set('Authorization', 'Basic dXNlcjpwYXNz')
    expect(response.status).toBe(401)
    expect(response.body.detail).toMatch(/scheme/i)
    expect(response.body.detail).toContain('Authorization: Bearer')
  })

  it('names the configured headers when no key was sent at all', async () => {
    const { server } = await app(['x-token'])
    const response = await request(server).get('/')
    expect(response.status).toBe(401)
    expect(response.body.detail).toContain('X-Token')
    expect(response.body.detail).not.toContain('Bearer')
  })
})
