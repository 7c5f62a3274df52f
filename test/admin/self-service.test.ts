/**
 * Self-service mode, on MemoryStore and on RedisStore: the application's `ownerFrom` names the
 * signed-in owner, and every route is confined to that owner. One test walks every route the app
 * documents, as each of two customers against the other's key and owner id, and requires the
 * answer to be exactly the answer for an id nobody has — and the other's key to be untouched.
 */
import type {
  CreatedKeyJson,
  KeyJson,
  KeyPageJson,
  OwnerJson,
  RotatedKeyJson,
  UsageReportJson,
} from '@keyward/admin'
import { beforeAll, describe, expect, it } from 'vitest'
import { eachStore } from '../security/stores.ts'
import {
  type Answer,
  type CallOptions,
  expectInvalid,
  expectProblem,
  type Harness,
  harness,
  UNKNOWN_ID,
} from './support.ts'

const SESSION = 'x-test-session-owner'

/** A request as the customer signed in as `owner` (the test's stand-in for a session cookie). */
function as(owner: string, options: CallOptions = {}): CallOptions {
  return { ...options, headers: { ...options.headers, [SESSION]: owner } }
}

/** A valid body for each route that takes one. */
const BODIES: Record<string, unknown> = {
  'POST /keys': { name: 'mine', scopes: ['orders:read'] },
  'PATCH /keys/{id}': { name: 'taken over', scopes: ['orders:write'], disabled: true },
  'POST /keys/{id}/revoke': { reason: 'because' },
  'POST /keys/{id}/rotate': { gracePeriodMs: 0 },
}

eachStore((store) => {
  let h: Harness

  beforeAll(async () => {
    h = await harness(store, {
      ownerFrom: (c) => c.req.header(SESSION) ?? null,
      grantableScopes: ['orders:*', 'reports:read'],
      trustedOrigins: ['https://app.example.com'],
    })
  })

  async function keyOf(owner: string, scopes = ['orders:read']): Promise<{ key: string; id: string }> {
    const created = await h.call<CreatedKeyJson>('POST', '/keys', as(owner, { body: { name: 'k', scopes } }))
    expect(created.status, created.text).toBe(201)
    return { key: created.body.key, id: created.body.record.id }
  }

  describe('a customer and their own keys', () => {
    it('creates keys for themselves only, lists, reads, updates, revokes, rotates and deletes them', async () => {
      const created = await h.call<CreatedKeyJson>(
        'POST',
        '/keys',
        as('org_self', {
          body: { name: 'ci', scopes: ['orders:read', 'reports:read'], environment: 'test' },
        }),
      )
      expect(created.status, created.text).toBe(201)
      expect(created.body.record).toMatchObject({ ownerId: 'org_self', environment: 'test' })
      const id = created.body.record.id
      const ownId = await h.call('POST', '/keys', as('org_self', { body: { ownerId: 'org_self' } }))
      expect(ownId.status).toBe(201)

      const list = await h.call<KeyPageJson>('GET', '/keys', as('org_self'))
      expect(list.body.items.map((key) => key.ownerId)).toEqual(['org_self', 'org_self'])
      expect(
        (await h.call<KeyPageJson>('GET', '/keys?ownerId=org_self', as('org_self'))).body.items,
      ).toHaveLength(2)
      expect((await h.call<KeyJson>('GET', `/keys/${id}`, as('org_self'))).body.name).toBe('ci')

      const patched = await h.call<KeyJson>(
        'PATCH',
        `/keys/${id}`,
        as('org_self', { body: { name: 'ci-2', disabled: true } }),
      )
      expect(patched.body).toMatchObject({ name: 'ci-2', disabled: true })
      const actors: (string | null)[] = []
      const off = h.keyward.events.on('key.rotated', (event) => actors.push(event.actor))
      const rotated = await h.call<RotatedKeyJson>('POST', `/keys/${id}/rotate`, as('org_self', { body: {} }))
      off()
      expect(rotated.status, rotated.text).toBe(201)
      expect(actors).toEqual(['owner:org_self'])
      const successor = rotated.body.record.id
      expect(
        (await h.call<KeyJson>('POST', `/keys/${successor}/revoke`, as('org_self'))).body.revokedAt,
      ).not.toBeNull()
      expect((await h.call('DELETE', `/keys/${successor}`, as('org_self'))).status).toBe(200)
    })

    it('reads its own owner record and usage', async () => {
      const { key, id } = await keyOf('org_reader')
      await h.keyward.owners.set('org_reader', { credits: { remaining: 10 } })
      for (let index = 0; index < 3; index++) await h.keyward.verify(key)
      expect(
        (await h.call<OwnerJson>('GET', '/owners/org_reader', as('org_reader'))).body.credits?.remaining,
      ).toBe(7)
      const keyUsage = await h.call<UsageReportJson>(
        'GET',
        `/keys/${id}/usage?granularity=minute`,
        as('org_reader'),
      )
      expect(keyUsage.body.totals.requests).toBe(3)
      const ownerUsage = await h.call<UsageReportJson>('GET', '/owners/org_reader/usage', as('org_reader'))
      expect(ownerUsage.body.totals).toMatchObject({ requests: 3, credits: 3 })
      const top = await h.call<{ items: { keyId: string }[] }>('GET', '/usage/top', as('org_reader'))
      expect(top.body.items.map((item) => item.keyId)).toEqual([id])
    })

    it('refuses another owner id on create (400), scopes it may not grant (403), and provider-only fields (400)', async () => {
      expectInvalid(await h.call('POST', '/keys', as('org_c', { body: { ownerId: 'org_d' } })), [
        ['body', 'ownerId'],
      ])
      for (const scopes of [['admin'], ['keyward:*'], ['keyward:keys:read'], ['*'], ['reports:write']]) {
        const answer = await h.call('POST', '/keys', as('org_c', { body: { scopes } }))
        expect(expectProblem(answer, 403, 'forbidden-scope').detail).toContain(scopes[0])
      }
      expectInvalid(
        await h.call(
          'POST',
          '/keys',
          as('org_c', {
            body: { rateLimit: { points: 1e6, duration: 1 }, credits: { remaining: 1e9 }, meta: {} },
          }),
        ),
        [
          ['body', 'rateLimit'],
          ['body', 'credits'],
          ['body', 'meta'],
        ],
      )
      const { id } = await keyOf('org_c')
      expectInvalid(
        await h.call('PATCH', `/keys/${id}`, as('org_c', { body: { credits: { remaining: 1e9 } } })),
        [['body', 'credits']],
      )
      expectProblem(
        await h.call('PATCH', `/keys/${id}`, as('org_c', { body: { scopes: ['keyward:*'] } })),
        403,
        'forbidden-scope',
      )
      expect((await h.call<KeyPageJson>('GET', '/keys', as('org_c'))).body.items).toHaveLength(1)
    })

    it('never shows keys with admin scopes, even under its own owner id', async () => {
      const provider = await h.keyward.keys.create({ ownerId: 'org_e', scopes: ['keyward:*'] })
      await keyOf('org_e')
      const list = await h.call<KeyPageJson>('GET', '/keys', as('org_e'))
      expect(list.body.items.map((key) => key.id)).not.toContain(provider.record.id)
      for (const [method, path] of [
        ['GET', `/keys/${provider.record.id}`],
        ['POST', `/keys/${provider.record.id}/rotate`],
        ['DELETE', `/keys/${provider.record.id}`],
      ] as const) {
        expectProblem(await h.call(method, path, as('org_e')), 404, 'key-not-found')
      }
      expect((await h.keyward.verify(provider.key)).valid).toBe(true)
    })
  })

  describe('sign-in and requests from other sites', () => {
    it('answers 401 when nobody is signed in', async () => {
      const body = expectProblem(await h.call('GET', '/keys'), 401, 'unauthenticated')
      expect(body.code).toBe('UNAUTHENTICATED')
      expectProblem(await h.call('POST', '/keys', { body: {} }), 401, 'unauthenticated')
    })

    it('does not serve owner writes: limits and credits are the provider’s', async () => {
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        expectProblem(
          await h.call(method, '/owners/org_f', as('org_f', { body: {} })),
          404,
          'route-not-found',
        )
      }
    })

    it('refuses changes from another site, and takes them from this one and trusted origins', async () => {
      const { id } = await keyOf('org_g')
      const patch = (headers: Record<string, string>) =>
        h.call('PATCH', `/keys/${id}`, as('org_g', { headers, body: { name: 'x' } }))
      expectProblem(await patch({ 'sec-fetch-site': 'cross-site' }), 403, 'cross-site-request')
      expectProblem(await patch({ 'sec-fetch-site': 'same-site' }), 403, 'cross-site-request')
      expectProblem(await patch({ origin: 'https://evil.example' }), 403, 'cross-site-request')
      expect((await patch({ 'sec-fetch-site': 'same-origin' })).status).toBe(200)
      expect((await patch({ origin: 'http://admin.test', host: 'admin.test' })).status).toBe(200)
      expect((await patch({ origin: 'https://app.example.com', 'sec-fetch-site': 'same-site' })).status).toBe(
        200,
      )
      // Reads carry no risk of acting for the customer.
      expect(
        (await h.call('GET', `/keys/${id}`, as('org_g', { headers: { 'sec-fetch-site': 'cross-site' } })))
          .status,
      ).toBe(200)
    })
  })

  it("walks every route: another owner's key, owner record and usage answer exactly like unknown ones, and stay untouched", async () => {
    const customers = ['org_walk_a', 'org_walk_b'] as const
    const keys: Record<string, { key: string; id: string }> = {}
    for (const owner of customers) {
      keys[owner] = await keyOf(owner)
      await h.keyward.owners.set(owner, { credits: { remaining: 100 } })
      await h.keyward.verify(keys[owner].key)
    }
    const before = Object.fromEntries(
      await Promise.all(customers.map(async (owner) => [owner, await h.keyward.keys.get(keys[owner]!.id)])),
    )
    const document = h.admin.openapi() as { paths: Record<string, Record<string, unknown>> }
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    )
    const walked: string[] = []

    for (const [me, other] of [customers, [...customers].reverse()] as const) {
      const victim = keys[other]!
      for (const operation of operations) {
        const [method, template] = operation.split(' ') as [string, string]
        const target = (key: string, owner: string) => {
          let path = template.replace(
            '{id}',
            template.startsWith('/owners') ? encodeURIComponent(owner) : key,
          )
          // Routes without an id take the other owner through the query or the body.
          if (operation === 'GET /keys' || operation === 'GET /usage/top') path += `?ownerId=${owner}`
          const body = operation === 'POST /keys' ? { ownerId: owner } : BODIES[`${method} ${template}`]
          return h.call(method, path, as(me, body === undefined ? {} : { body }))
        }
        const theirs: Answer = await target(victim.id, other)
        const nobodys: Answer = await target(UNKNOWN_ID, 'org_nobody')
        expect(theirs.text, operation).not.toContain(victim.id)
        expect(theirs.text, operation).not.toContain(other)
        expect([theirs.status, theirs.text], operation).toEqual([nobodys.status, nobodys.text])
        if (!walked.includes(operation)) walked.push(operation)
      }
    }
    expect(walked.sort()).toEqual([...operations].sort())
    // Every data route was among them.
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /keys',
        'GET /keys',
        'GET /keys/{id}',
        'PATCH /keys/{id}',
        'POST /keys/{id}/revoke',
        'POST /keys/{id}/rotate',
        'DELETE /keys/{id}',
        'GET /keys/{id}/usage',
        'GET /keys/{id}/abuse',
        'GET /owners/{id}',
        'GET /owners/{id}/usage',
        'GET /usage/top',
      ]),
    )

    for (const owner of customers) {
      const after = await h.keyward.keys.get(keys[owner]!.id)
      expect({ ...after, lastUsedAt: null }, owner).toEqual({ ...before[owner], lastUsedAt: null })
      // One verification above spent one credit of the owner's pool; the walk spent none.
      expect((await h.keyward.owners.get(owner))?.credits?.remaining, owner).toBe(99)
      expect((await h.keyward.verify(keys[owner]!.key)).valid, owner).toBe(true)
      const own = await h.call<KeyPageJson>('GET', '/keys', as(owner))
      expect(own.body.items.map((key) => key.id)).toEqual([keys[owner]!.id])
    }
  })
})
