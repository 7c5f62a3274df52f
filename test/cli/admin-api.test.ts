/**
 * The built `keyward` binary against a running admin API (`@keyward/admin` mounted under `/admin`
 * in Express, over real HTTP, on a real redis-server): the same commands as on Redis, the admin key
 * sent only as `Authorization: Bearer`, the admin key's id as the audit actor with the CLI's
 * reason, and each problem the API answers as one line with its exit code.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdmin } from '@keyward/admin'
import { createKeyward, type Keyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '../support/ioredis.ts'
import { TEST_SECRET } from '../support/redis-fixtures.ts'
import { freePort, type RedisServer, startRedisServer } from '../support/redis-server.ts'
import { type CliResult, ensureCliBuilt, keyward, keywardJson } from './cli-binary.ts'

interface KeyJson {
  id: string
  ownerId: string
  scopes: string[]
  revokedAt: string | null
  expiresAt: string | null
  rotatedTo: string | null
  lastUsedAt: string | null
}

let redis: RedisServer
let client: Redis
let service: Keyward
let http: Server
let apiUrl: string
let adminKey: string
let adminKeyId: string
let readOnlyKey: string
let env: Record<string, string>
/** What reached the server: the URL and Authorization header of every request. */
const seen: { url: string; authorization: string | undefined }[] = []
const lifecycle: { type: string; actor: string | null; reason: string | null }[] = []

function expectOneErrorLine(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(code)
  expect(result.stdout).toBe('')
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(result.stderr).toMatch(pattern)
}

beforeAll(async () => {
  await ensureCliBuilt()
  redis = await startRedisServer()
  client = new Redis(redis.url)
  service = createKeyward({ secret: TEST_SECRET, store: new RedisStore({ client }) })
  for (const type of ['key.created', 'key.revoked', 'key.rotated', 'key.deleted'] as const) {
    service.events.on(type, (event) => lifecycle.push({ type, actor: event.actor, reason: event.reason }))
  }
  const admin = createAdmin({ keyward: service })
  const app = express()
  app.use((req, _res, next) => {
    seen.push({ url: req.originalUrl, authorization: req.headers.authorization })
    next()
  })
  app.use('/admin', admin.nodeListener)
  http = await new Promise<Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
  apiUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/admin`
  const operator = await service.keys.create({ ownerId: 'operators', name: 'ci', scopes: ['keyward:*'] })
  adminKey = operator.key
  adminKeyId = operator.record.id
  readOnlyKey = (await service.keys.create({ ownerId: 'operators', scopes: ['keyward:keys:read'] })).key
  env = { KEYWARD_API_URL: apiUrl, KEYWARD_ADMIN_KEY: adminKey }
}, 240_000)

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve))
  await service?.close()
  await client?.quit()
  await redis?.dispose()
})

describe('keyward --api-url (a running admin API)', { timeout: 180_000 }, () => {
  it('walks a key through create, list, get, rotate, revoke and delete', async () => {
    const created = await keyward(
      [
        'keys',
        'create',
        '--owner',
        'org_api',
        '--scope',
        'orders:read',
        '--rate',
        '100/1m',
        '--credits',
        '50',
        '--reason',
        'onboarding',
      ],
      { env },
    )
    expect(created.code, created.stderr).toBe(0)
    const key = /\b(kw_live_\w{12}_\w{38})\b/.exec(created.stdout)?.[1] as string
    expect(created.stdout).toContain('This is the only time the key is shown')
    expect(await service.verify(key, { scopes: 'orders:read' })).toMatchObject({ valid: true })
    const id = key.slice(8, 20)

    const page = await keywardJson<{ items: KeyJson[]; cursor: string | null }>(
      ['keys', 'list', '--owner', 'org_api'],
      { env },
    )
    expect(page).toMatchObject({ items: [{ id, ownerId: 'org_api', scopes: ['orders:read'] }], cursor: null })
    const table = await keyward(['keys', 'list', '--owner', 'org_api'], { env })
    expect(table.stdout).toMatch(new RegExp(`^${id} +- +live +active +orders:read +49 `, 'm'))
    expect((await keywardJson<KeyJson>(['keys', 'get', id], { env })).lastUsedAt).not.toBeUndefined()

    const rotated = await keywardJson<{ key: string; record: KeyJson; previous: KeyJson }>(
      ['keys', 'rotate', id, '--grace', '1h', '--reason', 'rotation'],
      { env },
    )
    expect(rotated.previous.rotatedTo).toBe(rotated.record.id)
    expect((await service.verify(rotated.key)).valid).toBe(true)
    expect((await service.verify(key)).valid).toBe(true) // in its grace period
    expectOneErrorLine(await keyward(['keys', 'rotate', id], { env }), 1, /^keyward: admin API 409 /)

    const revoked = await keyward(['keys', 'revoke', rotated.record.id, '--reason', 'leaked'], { env })
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(await service.verify(rotated.key)).toMatchObject({ valid: false, code: 'REVOKED' })
    const deleted = await keywardJson<KeyJson>(['keys', 'delete', id, '--reason', 'cleanup'], { env })
    expect(deleted.id).toBe(id)
    expectOneErrorLine(await keyward(['keys', 'get', id], { env }), 1, /^keyward: no key with id/)
    expectOneErrorLine(
      await keyward(['keys', 'revoke', id], { env }),
      1,
      /^keyward: admin API 404 Key not found/,
    )

    // The admin key is the actor of every change; the CLI's reasons reach the events.
    expect(lifecycle).toEqual(
      expect.arrayContaining([
        { type: 'key.created', actor: adminKeyId, reason: 'onboarding' },
        { type: 'key.rotated', actor: adminKeyId, reason: 'rotation' },
        { type: 'key.revoked', actor: adminKeyId, reason: 'leaked' },
        { type: 'key.deleted', actor: adminKeyId, reason: 'cleanup' },
      ]),
    )
  })

  it('sets, reads and deletes owners, and reads usage', async () => {
    expect(
      (await keyward(['owners', 'set', 'org_api2', '--rate', '1000/1m', '--credits', '500'], { env })).code,
    ).toBe(0)
    expect(await keywardJson(['owners', 'get', 'org_api2'], { env })).toMatchObject({
      id: 'org_api2',
      credits: { remaining: 500 },
    })
    const { key, record } = await service.keys.create({
      ownerId: 'org_api2',
      rateLimit: { points: 3, duration: 60 },
    })
    for (let i = 0; i < 5; i++) await service.verify(key)
    await service.usage.flush()
    const usage = await keywardJson<{ totals: { counts: Record<string, number>; requests: number } }>(
      ['usage', record.id, '--since', '1h'],
      { env },
    )
    expect(usage.totals).toMatchObject({ requests: 5, counts: { VALID: 3, RATE_LIMITED: 2 } })
    const text = await keyward(['usage', '--owner', 'org_api2', '--since', '1h'], { env })
    expect(text.stdout).toMatch(/^VALID +[▁▂▃▄▅▆▇█]{60} +3$/m)
    expect((await keyward(['owners', 'delete', 'org_api2'], { env })).code).toBe(0)
    expectOneErrorLine(
      await keyward(['owners', 'get', 'org_api2'], { env }),
      1,
      /owner "org_api2" has no record/,
    )
  })

  it('sends the admin key only as a Bearer header, never in a URL', () => {
    expect(seen.length).toBeGreaterThan(5)
    for (const request of seen) {
      expect(request.authorization).toBe(`Bearer ${adminKey}`)
      expect(request.url).not.toContain(adminKey)
    }
  })

  it('answers problems as one line with their exit codes', async () => {
    expectOneErrorLine(
      await keyward(['keys', 'create', '--owner', 'x', '--network', '10.0.0.0/33'], { env }),
      2,
      /^keyward: admin API 400 .*allowedNetworks/,
    )
    expectOneErrorLine(
      await keyward(['keys', 'list', '--owner', 'x'], {
        env: { ...env, KEYWARD_ADMIN_KEY: `${adminKey.slice(0, -1)}${adminKey.endsWith('x') ? 'y' : 'x'}` },
      }),
      1,
      /^keyward: admin API 401 .*is KEYWARD_ADMIN_KEY a valid admin key/,
    )
    expectOneErrorLine(
      await keyward(['keys', 'create', '--owner', 'x'], { env: { ...env, KEYWARD_ADMIN_KEY: readOnlyKey } }),
      1,
      /^keyward: admin API 403 Insufficient scope: .*keyward:keys:write/,
    )
    expectOneErrorLine(
      await keyward(['keys', 'get', 'abc', '--api-url', apiUrl.replace(/\/admin$/, '/nothing-here')], {
        env,
      }),
      1,
      /^keyward: admin API 404 .*\(is --api-url where the admin API is mounted\?\)$/m,
    )
    expectOneErrorLine(
      await keyward(['keys', 'list', '--owner', 'x'], { env: { KEYWARD_API_URL: apiUrl } }),
      2,
      /^keyward: KEYWARD_ADMIN_KEY is not set/,
    )
    expectOneErrorLine(
      await keyward(
        ['keys', 'list', '--owner', 'x', '--api-url', `http://127.0.0.1:${await freePort()}/admin`],
        { env },
      ),
      3,
      /^keyward: cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+\/admin: ECONNREFUSED/,
    )
  })
})
