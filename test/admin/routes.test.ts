/**
 * The admin API, route by route, on MemoryStore and on RedisStore (a real redis-server): each
 * route's success, a 400 naming every invalid field, 401 without an admin key, 403 with an admin
 * key lacking the route's scope (or holding only non-admin scopes such as `*`), and 404 for an id
 * nobody has. Requests go through the app's `fetch`, as any fetch runtime would send them.
 */
import type {
  AbuseEventsJson,
  CreatedKeyJson,
  KeyJson,
  KeyPageJson,
  OwnerJson,
  RotatedKeyJson,
  UsageReportJson,
  UsageTopJson,
} from '@keyward/admin'
import { type KeyLifecycleEvent, parseKey } from '@keyward/core'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import { eachStore } from '../security/stores.ts'
import { type Answer, expectInvalid, expectProblem, type Harness, harness, UNKNOWN_ID } from './support.ts'

const HOUR = 3_600_000

interface RouteCase {
  method: string
  path: (ids: { key: string; owner: string }) => string
  scope: string
  body?: unknown
}

/** The key with its last character changed (to one it is not: a random key may end in `x`). */
const brokenCopy = (key: string): string => `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`

/** Every API route, with the admin scope it needs and a valid request. */
const ROUTES: RouteCase[] = [
  { method: 'POST', path: () => '/keys', scope: 'keyward:keys:write', body: { ownerId: 'org_a' } },
  { method: 'GET', path: () => '/keys?ownerId=org_a', scope: 'keyward:keys:read' },
  { method: 'GET', path: ({ key }) => `/keys/${key}`, scope: 'keyward:keys:read' },
  { method: 'PATCH', path: ({ key }) => `/keys/${key}`, scope: 'keyward:keys:write', body: { name: 'x' } },
  { method: 'POST', path: ({ key }) => `/keys/${key}/revoke`, scope: 'keyward:keys:write', body: {} },
  { method: 'POST', path: ({ key }) => `/keys/${key}/rotate`, scope: 'keyward:keys:write', body: {} },
  { method: 'DELETE', path: ({ key }) => `/keys/${key}`, scope: 'keyward:keys:write' },
  { method: 'GET', path: ({ owner }) => `/owners/${owner}`, scope: 'keyward:owners:read' },
  { method: 'PUT', path: ({ owner }) => `/owners/${owner}`, scope: 'keyward:owners:write', body: {} },
  { method: 'PATCH', path: ({ owner }) => `/owners/${owner}`, scope: 'keyward:owners:write', body: {} },
  { method: 'DELETE', path: ({ owner }) => `/owners/${owner}`, scope: 'keyward:owners:write' },
  { method: 'GET', path: ({ key }) => `/keys/${key}/usage`, scope: 'keyward:usage:read' },
  { method: 'GET', path: ({ owner }) => `/owners/${owner}/usage`, scope: 'keyward:usage:read' },
  { method: 'GET', path: () => '/usage/top', scope: 'keyward:usage:read' },
  { method: 'GET', path: ({ key }) => `/keys/${key}/abuse`, scope: 'keyward:usage:read' },
]

eachStore((store) => {
  let h: Harness
  let root: string
  let call: <T = unknown>(method: string, path: string, body?: unknown) => Promise<Answer<T>>

  beforeAll(async () => {
    h = await harness(store)
    root = await h.adminKey(['keyward:*'])
    call = <T>(method: string, path: string, body?: unknown) =>
      h.call<T>(method, path, body === undefined ? { key: root } : { key: root, body })
  })

  async function newKey(input: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
    const created = await call<CreatedKeyJson>('POST', '/keys', {
      ownerId: 'org_a',
      name: 'k',
      scopes: ['orders:read'],
      ...input,
    })
    expect(created.status, created.text).toBe(201)
    return { key: created.body.key, id: created.body.record.id }
  }

  describe('POST /keys', () => {
    it('creates a key and answers 201 with the plaintext key once, its record and a Location', async () => {
      const events: KeyLifecycleEvent[] = []
      const off = h.keyward.events.on('key.created', (event) => events.push(event))
      const answer = await call<CreatedKeyJson>('POST', '/keys', {
        ownerId: 'org_a',
        name: 'billing-sync',
        scopes: ['orders:read', 'invoices:*'],
        expiresAt: '2099-01-01T00:00:00.000Z',
        rateLimit: [
          { points: 100, duration: 60 },
          { name: 'burst', points: 10, duration: 1, sync: { intervalMs: 100 } },
        ],
        credits: { remaining: 1000, refill: { amount: 1000, interval: 86_400_000 } },
        meta: { plan: 'pro' },
        environment: 'live',
        allowedNetworks: ['203.0.113.7/24'],
        reason: 'onboarding',
      })
      off()
      expect(answer.status, answer.text).toBe(201)
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
      expect(answer.headers.get('cache-control')).toBe('no-store')
      const { key, record } = answer.body
      expect(answer.headers.get('location')).toBe(`keys/${record.id}`)
      expect(key).toMatch(new RegExp(`^sec_live_${record.id}_[0-9A-Za-z]{38}$`))
      expect(record).toMatchObject({
        ownerId: 'org_a',
        name: 'billing-sync',
        scopes: ['orders:read', 'invoices:*'],
        expiresAt: '2099-01-01T00:00:00.000Z',
        revokedAt: null,
        disabled: false,
        rateLimit: [
          { name: '100-per-60s', points: 100, duration: 60, blockDuration: 0, syncMs: null },
          { name: 'burst', points: 10, duration: 1, blockDuration: 0, syncMs: 100 },
        ],
        credits: { remaining: 1000, refill: { amount: 1000, interval: 86_400_000 } },
        meta: { plan: 'pro' },
        allowedNetworks: ['203.0.113.0/24'],
        lastUsedAt: null,
      })
      expect(Object.keys(record)).not.toContain('hash')
      expect((await h.keyward.verify(key, { clientAddress: '203.0.113.9' })).valid).toBe(true)
      // The admin key is the audit actor; the reason goes to the event, not the key.
      expect(events.map((event) => [event.actor, event.reason])).toEqual([[root.split('_')[2], 'onboarding']])
      expect(record.meta).toEqual({ plan: 'pro' })
      // The plaintext appears nowhere after creation.
      const read = await call('GET', `/keys/${record.id}`)
      expect(read.text).not.toContain(key.slice(-38))
    })

    it('answers 400 naming each invalid field, all at once', async () => {
      expectInvalid(
        await call('POST', '/keys', {
          name: 'x'.repeat(257),
          scopes: ['orders:read', 'has space'],
          expiresAt: 'tomorrow',
          rateLimit: { points: 0 },
          credits: { remaining: -1, refill: { amount: 1, interval: 10 } },
          meta: 'plan',
          environment: 'prod',
          allowedNetworks: [],
          permissions: ['admin'],
        }),
        [
          ['body', 'ownerId'],
          ['body', 'name'],
          ['body', 'scopes[1]'],
          ['body', 'expiresAt'],
          ['body', 'rateLimit.points'],
          ['body', 'rateLimit.duration'],
          ['body', 'credits.remaining'],
          ['body', 'credits.refill.interval'],
          ['body', 'meta'],
          ['body', 'environment'],
          ['body', 'allowedNetworks'],
          ['body', 'permissions'],
        ],
      )
    })

    it.each([
      ['ownerId', { ownerId: '' }],
      ['ownerId', { ownerId: 'x'.repeat(257) }],
      ['name', { ownerId: 'o', name: 7 }],
      ['scopes', { ownerId: 'o', scopes: 'orders:read' }],
      ['scopes[0]', { ownerId: 'o', scopes: ['a"b'] }],
      ['expiresAt', { ownerId: 'o', expiresAt: 1_700_000_000 }],
      ['rateLimit[1].duration', { ownerId: 'o', rateLimit: [{ points: 1, duration: 1 }, { points: 1 }] }],
      ['rateLimit.name', { ownerId: 'o', rateLimit: { points: 1, duration: 1, name: 'no spaces' } }],
      [
        'rateLimit.sync.intervalMs',
        { ownerId: 'o', rateLimit: { points: 1, duration: 1, sync: { intervalMs: 1 } } },
      ],
      ['rateLimit', { ownerId: 'o', rateLimit: 5 }],
      [
        'credits.refill.amount',
        { ownerId: 'o', credits: { remaining: 1, refill: { amount: 0, interval: 1000 } } },
      ],
      ['environment', { ownerId: 'o', environment: 'staging' }],
      // Not a CIDR: the shape is fine, keyward's own check names the entry.
      ['allowedNetworks[0]', { ownerId: 'o', allowedNetworks: ['not-a-network'] }],
      ['expires', { ownerId: 'o', expires: '2030-01-01T00:00:00Z' }],
    ])('answers 400 naming `%s`', async (field, body) => {
      expectInvalid(await call('POST', '/keys', body), [['body', field]])
    })

    it('answers 400 for a body that is not JSON, and 415 for one that is not sent as JSON', async () => {
      const broken = await h.call('POST', '/keys', {
        key: root,
        raw: '{"ownerId":',
        headers: { 'content-type': 'application/json' },
      })
      expectInvalid(broken, [['body', '']])
      const text = await h.call('POST', '/keys', {
        key: root,
        raw: 'ownerId=o',
        headers: { 'content-type': 'text/plain' },
      })
      expectProblem(text, 415, 'unsupported-media-type')
    })

    it('refuses (403) an admin scope the admin key does not hold itself, and creates nothing', async () => {
      const writer = await h.adminKey(['keyward:keys:write', 'keyward:keys:read'])
      const answer = await h.call('POST', '/keys', {
        key: writer,
        body: { ownerId: 'escalate', scopes: ['keyward:*'] },
      })
      const problem = expectProblem(answer, 403, 'forbidden-scope')
      expect(problem.detail).toContain('keyward:*')
      const within = await h.call('POST', '/keys', {
        key: writer,
        body: { ownerId: 'escalate', scopes: ['keyward:keys:read', '*'] },
      })
      expect(within.status, within.text).toBe(201)
      expect((await call<KeyPageJson>('GET', '/keys?ownerId=escalate')).body.items).toHaveLength(1)
    })
  })

  describe('GET /keys', () => {
    it("lists an owner's keys a page at a time", async () => {
      for (let index = 0; index < 3; index++)
        await call('POST', '/keys', { ownerId: 'org_paged', name: `k${index}` })
      const first = await call<KeyPageJson>('GET', '/keys?ownerId=org_paged&limit=2')
      expect(first.status).toBe(200)
      expect(first.body.items).toHaveLength(2)
      expect(first.body.cursor).toEqual(expect.any(String))
      const second = await call<KeyPageJson>(
        'GET',
        `/keys?ownerId=org_paged&limit=2&cursor=${encodeURIComponent(first.body.cursor ?? '')}`,
      )
      expect(second.body.items).toHaveLength(1)
      expect(second.body.cursor).toBeNull()
      const names = [...first.body.items, ...second.body.items].map((key) => key.name)
      expect(names.sort()).toEqual(['k0', 'k1', 'k2'])
      expect((await call('GET', '/keys?ownerId=nobody')).body).toEqual({ items: [], cursor: null })
    })

    it.each([
      ['ownerId', ''],
      ['limit', 'ownerId=o&limit=0'],
      ['limit', 'ownerId=o&limit=1001'],
      ['limit', 'ownerId=o&limit=ten'],
      ['cursor', 'ownerId=o&cursor='],
    ])('answers 400 naming `%s` (?%s)', async (field, query) => {
      expectInvalid(await call('GET', `/keys?${query}`), [['query', field]])
    })
  })

  describe('GET /keys/{id}', () => {
    it('reads a key, with lastUsedAt once it has been used', async () => {
      const { key, id } = await newKey()
      await h.keyward.verify(key)
      await h.keyward.usage.flush()
      const answer = await call<KeyJson>('GET', `/keys/${id}`)
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ id, ownerId: 'org_a', name: 'k', scopes: ['orders:read'] })
      expect(Date.parse(answer.body.lastUsedAt ?? '')).not.toBeNaN()
    })
  })

  describe('PATCH /keys/{id}', () => {
    it('changes the given fields, removes those set to null, and names the admin key as actor', async () => {
      const { key, id } = await newKey({ credits: { remaining: 5 }, expiresAt: '2099-01-01T00:00:00Z' })
      const actors: (string | null)[] = []
      const off = h.keyward.events.on('key.updated', (event) => actors.push(event.actor))
      const answer = await call<KeyJson>('PATCH', `/keys/${id}`, {
        name: 'renamed',
        scopes: ['orders:write'],
        expiresAt: null,
        disabled: true,
        rateLimit: { points: 3, duration: 10 },
        credits: null,
        meta: { team: 'billing' },
        allowedNetworks: null,
      })
      off()
      expect(answer.status, answer.text).toBe(200)
      expect(answer.body).toMatchObject({
        name: 'renamed',
        scopes: ['orders:write'],
        expiresAt: null,
        disabled: true,
        rateLimit: [{ points: 3, duration: 10 }],
        credits: null,
        meta: { team: 'billing' },
      })
      expect(actors).toEqual([root.split('_')[2]])
      expect((await h.keyward.verify(key)).valid).toBe(false)
    })

    it('answers 400 naming each invalid field', async () => {
      const { id } = await newKey()
      expectInvalid(
        await call('PATCH', `/keys/${id}`, {
          name: 5,
          disabled: 'yes',
          expiresAt: 'soon',
          enabled: true,
          ownerId: 'x',
        }),
        [
          ['body', 'name'],
          ['body', 'disabled'],
          ['body', 'expiresAt'],
          ['body', 'enabled'],
          ['body', 'ownerId'],
        ],
      )
      expectInvalid(await call('PATCH', `/keys/${id}`, { credits: { refill: null } }), [
        ['body', 'credits.remaining'],
        ['body', 'credits.refill'],
      ])
    })

    it('refuses (403) granting an admin scope beyond the admin key’s own', async () => {
      const { id } = await newKey()
      const writer = await h.adminKey(['keyward:keys:write'])
      expectProblem(
        await h.call('PATCH', `/keys/${id}`, { key: writer, body: { scopes: ['keyward:owners:write'] } }),
        403,
        'forbidden-scope',
      )
    })
  })

  describe('POST /keys/{id}/revoke', () => {
    it('revokes the key at once (with a reason in the event), and again changes nothing', async () => {
      const { key, id } = await newKey()
      const events: KeyLifecycleEvent[] = []
      const off = h.keyward.events.on('key.revoked', (event) => events.push(event))
      const answer = await call<KeyJson>('POST', `/keys/${id}/revoke`, { reason: 'leaked in a log' })
      expect(answer.status, answer.text).toBe(200)
      expect(Date.parse(answer.body.revokedAt ?? '')).not.toBeNaN()
      expect(await h.keyward.verify(key)).toMatchObject({ valid: false, code: 'REVOKED' })
      expect((await h.call('POST', `/keys/${id}/revoke`, { key: root })).status).toBe(200)
      off()
      expect(events.map((event) => [event.actor, event.reason])).toEqual([
        [root.split('_')[2], 'leaked in a log'],
      ])
    })

    it('answers 400 naming each invalid field', async () => {
      const { id } = await newKey()
      expectInvalid(await call('POST', `/keys/${id}/revoke`, { reason: '', why: 'x' }), [
        ['body', 'reason'],
        ['body', 'why'],
      ])
    })
  })

  describe('POST /keys/{id}/rotate', () => {
    it('answers 201 with the new key once; the old one works for gracePeriodMs', async () => {
      const { key: old, id } = await newKey()
      const answer = await call<RotatedKeyJson>('POST', `/keys/${id}/rotate`, {
        gracePeriodMs: HOUR,
        reason: 'scheduled',
      })
      expect(answer.status, answer.text).toBe(201)
      const { key, record, previous } = answer.body
      expect(answer.headers.get('location')).toBe(`../${record.id}`)
      expect(record).toMatchObject({ ownerId: 'org_a', scopes: ['orders:read'], rotatedFrom: id })
      expect(previous).toMatchObject({ id, rotatedTo: record.id, revokedAt: null })
      expect((await h.keyward.verify(key)).valid).toBe(true)
      expect((await h.keyward.verify(old)).valid).toBe(true)
    })

    it('revokes the old key at once without a grace period, and answers 409 to rotating it again', async () => {
      const { key: old, id } = await newKey()
      const answer = await h.call('POST', `/keys/${id}/rotate`, { key: root })
      expect(answer.status, answer.text).toBe(201)
      expect(await h.keyward.verify(old)).toMatchObject({ valid: false, code: 'REVOKED' })
      expectProblem(await call('POST', `/keys/${id}/rotate`, {}), 409, 'key-conflict')
    })

    it('answers 409 for a key already rotated (rotate its successor instead)', async () => {
      const { id } = await newKey()
      await call('POST', `/keys/${id}/rotate`, { gracePeriodMs: HOUR })
      const problem = expectProblem(
        await call('POST', `/keys/${id}/rotate`, { gracePeriodMs: HOUR }),
        409,
        'key-conflict',
      )
      expect(problem.detail).toMatch(/successor/)
    })

    it('answers 400 naming each invalid field', async () => {
      const { id } = await newKey()
      expectInvalid(
        await call('POST', `/keys/${id}/rotate`, { gracePeriodMs: -1, expiresAt: 'never', grace: 5 }),
        [
          ['body', 'gracePeriodMs'],
          ['body', 'expiresAt'],
          ['body', 'grace'],
        ],
      )
      expectInvalid(await call('POST', `/keys/${id}/rotate`, { gracePeriodMs: 1.5 }), [
        ['body', 'gracePeriodMs'],
      ])
    })

    it('refuses (403) to rotate a key with admin scopes the admin key could not grant', async () => {
      const { id } = await newKey({ scopes: ['keyward:*'] })
      const writer = await h.adminKey(['keyward:keys:write'])
      expectProblem(await h.call('POST', `/keys/${id}/rotate`, { key: writer }), 403, 'forbidden-scope')
    })
  })

  describe('DELETE /keys/{id}', () => {
    it('deletes the key for good: 200 with the record as it was, then 404', async () => {
      const { key, id } = await newKey()
      const answer = await h.call<KeyJson>('DELETE', `/keys/${id}?reason=customer%20request`, { key: root })
      expect(answer.status, answer.text).toBe(200)
      expect(answer.body.id).toBe(id)
      expect(await h.keyward.verify(key)).toMatchObject({ valid: false, code: 'NOT_FOUND' })
      expectProblem(await call('GET', `/keys/${id}`), 404, 'key-not-found')
      expectProblem(await call('DELETE', `/keys/${id}`), 404, 'key-not-found')
    })

    it('answers 400 for an empty reason', async () => {
      const { id } = await newKey()
      expectInvalid(await call('DELETE', `/keys/${id}?reason=`), [['query', 'reason']])
    })
  })

  describe('/owners/{id}', () => {
    it('PUT creates or replaces the owner, GET reads it, PATCH changes fields, DELETE removes it', async () => {
      const reasons: (string | null)[] = []
      const off = h.keyward.events.on('owner.set', (event) => reasons.push(event.reason))
      const put = await call<OwnerJson>('PUT', '/owners/org_limits', {
        rateLimit: { points: 1000, duration: 60 },
        credits: { remaining: 50_000 },
        meta: { plan: 'pro' },
        reason: 'signed the pro plan',
      })
      off()
      expect(reasons).toEqual(['signed the pro plan'])
      expect(put.status, put.text).toBe(200)
      expect(put.body).toMatchObject({
        id: 'org_limits',
        rateLimit: [{ name: 'owner', points: 1000, duration: 60 }],
        credits: { remaining: 50_000, refill: null },
        meta: { plan: 'pro' },
      })
      expect((await call('GET', '/owners/org_limits')).body).toEqual(put.body)
      const patched = await call<OwnerJson>('PATCH', '/owners/org_limits', { credits: null })
      expect(patched.body).toMatchObject({
        credits: null,
        rateLimit: [{ points: 1000 }],
        meta: { plan: 'pro' },
      })
      const replaced = await call<OwnerJson>('PUT', '/owners/org_limits', {})
      expect(replaced.body).toMatchObject({ rateLimit: null, credits: null, meta: {} })
      const deleted = await h.call('DELETE', '/owners/org_limits?reason=closed', { key: root })
      expect(deleted.status).toBe(200)
      expectProblem(await call('GET', '/owners/org_limits'), 404, 'owner-not-found')
    })

    it('names owner ids as they are, slashes and all', async () => {
      const id = 'team/eu west'
      expect((await call<OwnerJson>('PUT', `/owners/${encodeURIComponent(id)}`, {})).body.id).toBe(id)
      expect((await call<OwnerJson>('GET', `/owners/${encodeURIComponent(id)}`)).body.id).toBe(id)
    })

    it('answers 400 naming each invalid field', async () => {
      for (const method of ['PUT', 'PATCH']) {
        await call('PUT', '/owners/org_bad', {})
        expectInvalid(
          await call(method, '/owners/org_bad', {
            rateLimit: [{ points: 1, duration: 0 }],
            credits: { remaining: 'lots' },
            meta: [],
            limits: {},
          }),
          [
            ['body', 'rateLimit[0].duration'],
            ['body', 'credits.remaining'],
            ['body', 'meta'],
            ['body', 'limits'],
          ],
        )
      }
      expectInvalid(await call('DELETE', '/owners/org_bad?reason='), [['query', 'reason']])
    })
  })

  describe('usage', () => {
    it("GET /keys/{id}/usage counts the key's verifications per outcome, in the buckets asked for", async () => {
      const { key, id } = await newKey({ rateLimit: { points: 3, duration: 60 } })
      for (let index = 0; index < 5; index++) await h.keyward.verify(key)
      const answer = await call<UsageReportJson>('GET', `/keys/${id}/usage?granularity=minute`)
      expect(answer.status, answer.text).toBe(200)
      expect(answer.body.granularity).toBe('minute')
      expect(answer.body.buckets.length).toBeGreaterThanOrEqual(60)
      expect(answer.body.totals).toMatchObject({ requests: 5, counts: { VALID: 3, RATE_LIMITED: 2 } })
      const bucket = answer.body.buckets.find((entry) => entry.requests > 0)
      expect(Date.parse(bucket?.start ?? '')).not.toBeNaN()
      // The default: a day by hour.
      const day = await call<UsageReportJson>('GET', `/keys/${id}/usage`)
      expect(day.body.granularity).toBe('hour')
      expect(day.body.totals.requests).toBe(5)
      const from = new Date(Date.now() - 2 * HOUR).toISOString()
      const ranged = await call<UsageReportJson>('GET', `/keys/${id}/usage?from=${from}&granularity=hour`)
      expect(ranged.body.buckets.length).toBeGreaterThanOrEqual(2)
      expect(ranged.body.totals.requests).toBe(5)
    })

    it("GET /owners/{id}/usage adds up the owner's keys; GET /usage/top ranks keys", async () => {
      const owner = `org_usage_${store.name}`
      const first = await newKey({ ownerId: owner })
      const second = await newKey({ ownerId: owner })
      for (let index = 0; index < 4; index++) await h.keyward.verify(first.key)
      await h.keyward.verify(second.key, { scopes: 'orders:write' })
      const usage = await call<UsageReportJson>('GET', `/owners/${owner}/usage?granularity=minute`)
      expect(usage.body.totals).toMatchObject({ requests: 5, counts: { VALID: 4, INSUFFICIENT_SCOPE: 1 } })
      const top = await call<UsageTopJson>('GET', `/usage/top?ownerId=${owner}`)
      expect(top.status, top.text).toBe(200)
      expect(top.body.items.map((item) => item.keyId)).toEqual([first.id, second.id])
      expect(top.body.items[0]).toMatchObject({ ownerId: owner, requests: 4, rejections: 0 })
      const rejections = await call<UsageTopJson>(
        'GET',
        `/usage/top?ownerId=${owner}&by=rejections&limit=1&granularity=minute`,
      )
      expect(rejections.body.items).toEqual([expect.objectContaining({ keyId: second.id, rejections: 1 })])
      const everyone = await call<UsageTopJson>('GET', '/usage/top?limit=1000')
      expect(everyone.body.items.map((item) => item.keyId)).toEqual(
        expect.arrayContaining([first.id, second.id]),
      )
    })

    it.each([
      ['granularity', 'granularity=week'],
      ['from', 'from=yesterday'],
      ['to', 'to=2026-13-01T00:00:00Z'],
      // Shaped right, refused by keyward: minute buckets are kept 48 hours.
      ['from', `granularity=minute&from=${new Date(Date.now() - 30 * 86_400_000).toISOString()}`],
      ['from', `from=${new Date(Date.now() + HOUR).toISOString()}`],
    ])('GET /keys/{id}/usage answers 400 naming `%s` (?%s)', async (field, query) => {
      const { id } = await newKey()
      expectInvalid(await call('GET', `/keys/${id}/usage?${query}`), [['query', field]])
    })

    it.each([
      ['by', 'by=popularity'],
      ['limit', 'limit=0'],
      ['ownerId', 'ownerId='],
      ['granularity', 'granularity=year'],
    ])('GET /usage/top answers 400 naming `%s` (?%s)', async (field, query) => {
      expectInvalid(await call('GET', `/usage/top?${query}`), [['query', field]])
    })

    it('GET /owners/{id}/usage answers 400 for an invalid granularity', async () => {
      expectInvalid(await call('GET', '/owners/org_a/usage?granularity=fortnight'), [
        ['query', 'granularity'],
      ])
    })
  })

  describe('abuse', () => {
    it("GET /keys/{id}/abuse lists the key's abuse signals, newest first; none for a quiet key", async () => {
      const { key, id } = await newKey()
      const quiet = await call<AbuseEventsJson>('GET', `/keys/${id}/abuse`)
      expect(quiet.status, quiet.text).toBe(200)
      expect(quiet.body).toEqual({ items: [] })
      // The key's public id with wrong secrets, as many times as the default threshold (10 an hour).
      const parsed = parseKey(key)
      if (parsed === null) throw new Error('the key does not parse')
      for (let attempt = 0; attempt < 10; attempt++) {
        const wrong = formatKey(parsed.prefix, parsed.environment, id, randomBase62(32))
        expect((await h.keyward.verify(wrong)).valid).toBe(false)
      }
      await h.keyward.abuse.flush()
      const answer = await call<AbuseEventsJson>('GET', `/keys/${id}/abuse?limit=5`)
      expect(answer.status, answer.text).toBe(200)
      expect(answer.body.items).toEqual([
        expect.objectContaining({ kind: 'wrong-secret', keyId: id, ownerId: 'org_a', quarantined: false }),
      ])
      const [event] = answer.body.items
      if (event?.kind !== 'wrong-secret') throw new Error('expected a wrong-secret event')
      expect(event.attempts).toBeGreaterThanOrEqual(10)
      expect(Date.parse(event.timestamp)).not.toBeNaN()
      expect(Date.parse(event.windowStart)).toBeLessThanOrEqual(Date.parse(event.timestamp))
      expect(answer.text).not.toContain(key)
      // The key itself still works: a wrong secret reports, it does not disable.
      expect((await h.keyward.verify(key)).valid).toBe(true)
    })

    it.each([
      ['limit', 'limit=0'],
      ['limit', 'limit=101'],
      ['limit', 'limit=many'],
    ])('GET /keys/{id}/abuse answers 400 naming `%s` (?%s)', async (field, query) => {
      const { id } = await newKey()
      expectInvalid(await call('GET', `/keys/${id}/abuse?${query}`), [['query', field]])
    })

    it('shows why a key is disabled (disabledReason), and null once it is enabled again', async () => {
      const { id } = await newKey()
      await h.keyward.keys.update(id, { disabled: true }, { actor: 'test', reason: 'abuse:many-networks' })
      const disabled = await call<KeyJson>('GET', `/keys/${id}`)
      expect(disabled.body).toMatchObject({ disabled: true, disabledReason: 'abuse:many-networks' })
      await h.keyward.keys.update(id, { disabled: false })
      expect((await call<KeyJson>('GET', `/keys/${id}`)).body).toMatchObject({
        disabled: false,
        disabledReason: null,
      })
    })
  })

  describe('admin keys', () => {
    it.each(
      ROUTES.map((route) => [`${route.method} ${route.path({ key: ':id', owner: ':id' })}`, route] as const),
    )(
      '%s: 401 without a key, 401 with an invalid one, 403 with another scope or a non-admin `*`',
      async (_name, route) => {
        const ids = { key: (await newKey()).id, owner: 'org_a' }
        await call('PUT', '/owners/org_a', {})
        const path = route.path(ids)
        const missing = await h.call(route.method, path, { body: route.body })
        expect(expectProblem(missing, 401, 'missing-key').code).toBe('MISSING')
        expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="keyward-admin"')
        const invalid = await h.call(route.method, path, { key: brokenCopy(root), body: route.body })
        expectProblem(invalid, 401, 'invalid-key')
        const other = ROUTES.find((candidate) => candidate.scope !== route.scope)?.scope as string
        const wrong = await h.call(route.method, path, { key: await h.adminKey([other]), body: route.body })
        expect(expectProblem(wrong, 403, 'insufficient-scope').code).toBe('INSUFFICIENT_SCOPE')
        expect(wrong.headers.get('www-authenticate')).toContain(`scope="${route.scope}"`)
        expectProblem(
          await h.call(route.method, path, { key: await h.adminKey(['*']), body: route.body }),
          403,
          'insufficient-scope',
        )
        const exact = await h.call(route.method, path, {
          key: await h.adminKey([route.scope]),
          body: route.body,
        })
        expect(exact.status, exact.text).toBeLessThan(300)
      },
    )

    it('refuses a revoked admin key', async () => {
      const admin = await call<CreatedKeyJson>('POST', '/keys', { ownerId: 'ops', scopes: ['keyward:*'] })
      await call('POST', `/keys/${admin.body.record.id}/revoke`, {})
      expectProblem(await h.call('GET', '/keys?ownerId=ops', { key: admin.body.key }), 401, 'revoked-key')
    })
  })

  describe('unknown ids and routes', () => {
    it.each([
      ['GET', `/keys/${UNKNOWN_ID}`],
      ['PATCH', `/keys/${UNKNOWN_ID}`, { name: 'x' }],
      ['POST', `/keys/${UNKNOWN_ID}/revoke`, {}],
      ['POST', `/keys/${UNKNOWN_ID}/rotate`, {}],
      ['DELETE', `/keys/${UNKNOWN_ID}`],
      ['GET', `/keys/${UNKNOWN_ID}/usage`],
      ['GET', `/keys/${UNKNOWN_ID}/abuse`],
      ['GET', '/keys/not-a-key-id'],
      ['DELETE', `/keys/${'x'.repeat(5000)}`],
    ])('%s %s answers 404 key-not-found', async (method, path, body?: unknown) => {
      expect(expectProblem(await call(method, path, body), 404, 'key-not-found').code).toBe('KEY_NOT_FOUND')
    })

    it.each([
      ['GET', '/owners/org_nobody'],
      ['PATCH', '/owners/org_nobody', {}],
      ['DELETE', '/owners/org_nobody'],
    ])('%s %s answers 404 owner-not-found', async (method, path, body?: unknown) => {
      expectProblem(await call(method, path, body), 404, 'owner-not-found')
    })

    it('answers a route it does not have with a 404 problem', async () => {
      expectProblem(await call('GET', '/nowhere'), 404, 'route-not-found')
      expectProblem(await call('POST', '/owners/x'), 404, 'route-not-found')
    })
  })
})
