import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../test/support/core-fixtures.ts'
import { InvalidArgumentError, KeyNotFoundError } from './errors.ts'
import type { KeyLifecycleEvent } from './events.ts'
import type { UpdateKeyInput } from './index.ts'
import { parseKey } from './key-format.ts'
import type { KeyRecord } from './types.ts'

const setup = keywardWithClock

/** Asserts that `record` (and its JSON) carries neither the key, its secret nor the stored hash. */
async function expectNoSecrets(keyward: ReturnType<typeof setup>['keyward'], key: string, record: KeyRecord) {
  const json = JSON.stringify(record)
  const stored = await keyward.store.get(record.id)
  expect(json).not.toContain(key)
  expect(json).not.toContain(parseKey(key)?.secret)
  expect(json).not.toContain(stored?.hash)
  expect(record).not.toHaveProperty('hash')
  expect(record).not.toHaveProperty('pepperVersion')
  expect(record).not.toHaveProperty('key')
  expect(record).not.toHaveProperty('secret')
}

describe('keys.create', () => {
  it('returns the key once and a record with every field set from the input', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({
      ownerId: 'org_42',
      name: 'billing-sync',
      scopes: ['orders:read', 'invoices:*'],
      expiresAt: new Date(START + 86_400_000),
      rateLimit: { points: 10, duration: 60 },
      credits: { remaining: 100, refill: { amount: 100, interval: 3_600_000 } },
      meta: { plan: 'pro', nested: { a: [1, 2] } },
    })
    expect(parseKey(key, 'acme')?.id).toBe(record.id)
    expect(record).toEqual({
      id: record.id,
      ownerId: 'org_42',
      name: 'billing-sync',
      environment: 'live',
      scopes: ['orders:read', 'invoices:*'],
      createdAt: new Date(START),
      updatedAt: new Date(START),
      expiresAt: new Date(START + 86_400_000),
      revokedAt: null,
      disabled: false,
      disabledReason: null,
      rateLimit: [{ name: '10-per-60s', points: 10, duration: 60, blockDuration: 0, syncMs: null }],
      credits: { remaining: 100, refill: { amount: 100, interval: 3_600_000 }, refilledAt: new Date(START) },
      meta: { plan: 'pro', nested: { a: [1, 2] } },
      rotatedFrom: null,
      rotatedTo: null,
      allowedNetworks: null,
      lastUsedAt: null,
    })
    await expectNoSecrets(keyward, key, record)
  })

  it('defaults optional fields', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o' })
    expect(record).toMatchObject({
      name: null,
      environment: 'live',
      scopes: [],
      expiresAt: null,
      rateLimit: null,
      credits: null,
      meta: {},
    })
  })

  it('stores only an HMAC of the key, never the key or its secret', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    const stored = await keyward.store.get(record.id)
    const json = JSON.stringify(stored)
    expect(json).not.toContain(key)
    expect(json).not.toContain(parseKey(key)?.secret)
    expect(stored?.hash).toMatch(/^[A-Za-z0-9_-]{43}$/) // base64url SHA-256
  })

  it('copies meta: changing the input object afterwards changes nothing', async () => {
    const { keyward } = setup()
    const meta = { plan: 'pro', tags: ['a'] }
    const { record } = await keyward.keys.create({ ownerId: 'o', meta })
    meta.plan = 'free'
    meta.tags.push('b')
    record.meta.plan = 'hacked'
    expect((await keyward.keys.get(record.id))?.meta).toEqual({ plan: 'pro', tags: ['a'] })
  })

  it.each([
    ['ownerId', { ownerId: '' }],
    ['ownerId', { ownerId: 'x'.repeat(257) }],
    ['ownerId', { ownerId: 42 }],
    ['name', { ownerId: 'o', name: 42 }],
    ['name', { ownerId: 'o', name: 'x'.repeat(257) }],
    ['scopes', { ownerId: 'o', scopes: ['a b'] }],
    ['expiresAt', { ownerId: 'o', expiresAt: '2030-01-01' }],
    ['expiresAt', { ownerId: 'o', expiresAt: new Date(Number.NaN) }],
    ['rateLimit.points', { ownerId: 'o', rateLimit: { points: 0, duration: 1 } }],
    ['rateLimit.duration', { ownerId: 'o', rateLimit: { points: 1, duration: 0.5 } }],
    [
      'rateLimit[1].name',
      {
        ownerId: 'o',
        rateLimit: [
          { points: 1, duration: 1 },
          { points: 1, duration: 1 },
        ],
      },
    ],
    ['rateLimit', { ownerId: 'o', rateLimit: [] }],
    ['credits.remaining', { ownerId: 'o', credits: { remaining: -1 } }],
    ['credits.remaining', { ownerId: 'o', credits: { remaining: 1.5 } }],
    [
      'credits.refill.amount',
      { ownerId: 'o', credits: { remaining: 1, refill: { amount: 0, interval: 1000 } } },
    ],
    [
      'credits.refill.interval',
      { ownerId: 'o', credits: { remaining: 1, refill: { amount: 1, interval: 10 } } },
    ],
    ['meta', { ownerId: 'o', meta: [] }],
    ['meta', { ownerId: 'o', meta: 'x' }],
    ['meta', { ownerId: 'o', meta: { big: 'x'.repeat(17_000) } }],
    ['meta', { ownerId: 'o', meta: { n: 10n } }],
    ['environment', { ownerId: 'o', environment: 'prod' }],
  ])('rejects an invalid %s with an InvalidArgumentError naming it', async (field, input) => {
    const { keyward } = setup()
    const attempt = keyward.keys.create(input as never)
    await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(keyward.keys.create(input as never)).rejects.toMatchObject({ field })
    expect((await keyward.keys.list({ ownerId: 'o' })).items).toEqual([])
  })

  it('emits key.created with the public record', async () => {
    const { keyward } = setup()
    const events: KeyLifecycleEvent[] = []
    keyward.events.on('key.created', (event) => events.push(event))
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    expect(events).toEqual([
      { type: 'key.created', key: record, timestamp: START, actor: null, reason: null },
    ])
    expect(JSON.stringify(events)).not.toContain(parseKey(key)?.secret)
  })
})

describe('keys.get', () => {
  it('returns the record, or null for an unknown or non-string id', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', scopes: ['a'] })
    const fetched = await keyward.keys.get(record.id)
    expect(fetched).toEqual(record)
    await expectNoSecrets(keyward, key, fetched as KeyRecord)
    expect(await keyward.keys.get('AAAAAAAAAAAA')).toBeNull()
    expect(await keyward.keys.get(42 as unknown as string)).toBeNull()
  })
})

describe('keys.list', () => {
  it("lists only the owner's keys, oldest first", async () => {
    const { keyward, clock } = setup()
    const mine: string[] = []
    for (let i = 0; i < 3; i++) {
      mine.push((await keyward.keys.create({ ownerId: 'me' })).record.id)
      await keyward.keys.create({ ownerId: 'someone-else' })
      clock.advance(1)
    }
    const page = await keyward.keys.list({ ownerId: 'me' })
    expect(page.items.map((record) => record.id)).toEqual(mine)
    expect(page.cursor).toBeNull()
    expect(await keyward.keys.list({ ownerId: 'nobody' })).toEqual({ items: [], cursor: null })
  })

  it('pages with a cursor until every key was seen exactly once', async () => {
    const { keyward } = setup()
    const created: string[] = []
    for (let i = 0; i < 25; i++) created.push((await keyward.keys.create({ ownerId: 'me' })).record.id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: { items: KeyRecord[]; cursor: string | null } = await keyward.keys.list(
        cursor === null ? { ownerId: 'me', limit: 10 } : { ownerId: 'me', limit: 10, cursor },
      )
      expect(page.items.length).toBeLessThanOrEqual(10)
      seen.push(...page.items.map((record) => record.id))
      cursor = page.cursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(3)
    expect(seen).toEqual(created)
  })

  it('returns no further page after an exactly full last page', async () => {
    const { keyward } = setup()
    for (let i = 0; i < 4; i++) await keyward.keys.create({ ownerId: 'me' })
    const first = await keyward.keys.list({ ownerId: 'me', limit: 2 })
    expect(first.cursor).not.toBeNull()
    const second = await keyward.keys.list({ ownerId: 'me', limit: 2, cursor: first.cursor as string })
    expect(second.items).toHaveLength(2)
    expect(second.cursor).toBeNull()
  })

  it("gives an empty page for another owner's cursor or a garbage cursor, never someone else's keys", async () => {
    const { keyward } = setup()
    for (let i = 0; i < 3; i++) await keyward.keys.create({ ownerId: 'a' })
    for (let i = 0; i < 3; i++) await keyward.keys.create({ ownerId: 'b' })
    const foreign = (await keyward.keys.list({ ownerId: 'a', limit: 1 })).cursor as string
    expect(await keyward.keys.list({ ownerId: 'b', cursor: foreign })).toEqual({ items: [], cursor: null })
    for (const cursor of ['', 'garbage', '!!!', 'x'.repeat(10_000), '\u{1F600}']) {
      const page = await keyward.keys.list({ ownerId: 'b', cursor })
      expect(page.items.every((record) => record.ownerId === 'b')).toBe(true)
      expect(page.items.length).toBeLessThan(3)
    }
  })

  it.each([0, -1, 1001, 1.5, Number.NaN])('rejects limit %s as an InvalidArgumentError', async (limit) => {
    const { keyward } = setup()
    await expect(keyward.keys.list({ ownerId: 'o', limit })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      field: 'limit',
    })
  })

  it('rejects a missing owner', async () => {
    const { keyward } = setup()
    await expect(keyward.keys.list({ ownerId: '' })).rejects.toMatchObject({ field: 'ownerId' })
  })
})

describe('keys.update', () => {
  it('changes each field and stamps updatedAt', async () => {
    const { keyward, clock } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', name: 'old', scopes: ['a'] })
    clock.advance(5000)
    const updated = await keyward.keys.update(record.id, {
      name: 'new',
      scopes: ['b', 'c:*'],
      expiresAt: new Date(START + 60_000),
      rateLimit: { points: 5, duration: 10, name: 'burst' },
      credits: { remaining: 7 },
      meta: { tier: 2 },
    })
    expect(updated).toMatchObject({
      id: record.id,
      ownerId: 'o',
      name: 'new',
      scopes: ['b', 'c:*'],
      expiresAt: new Date(START + 60_000),
      rateLimit: [{ name: 'burst', points: 5, duration: 10, blockDuration: 0, syncMs: null }],
      credits: { remaining: 7, refill: null },
      meta: { tier: 2 },
      createdAt: new Date(START),
      updatedAt: new Date(START + 5000),
    })
    expect(await keyward.keys.get(record.id)).toEqual(updated)
    // the key itself keeps working, now with the new scopes
    expect(await keyward.verify(key, { scopes: 'c:x' })).toMatchObject({ valid: true })
    expect(await keyward.verify(key, { scopes: 'a' })).toMatchObject({ code: 'INSUFFICIENT_SCOPE' })
  })

  it('clears nullable fields with null', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({
      ownerId: 'o',
      name: 'n',
      expiresAt: new Date(START + 1000),
      rateLimit: { points: 1, duration: 1 },
      credits: { remaining: 1 },
    })
    const updated = await keyward.keys.update(record.id, {
      name: null,
      expiresAt: null,
      rateLimit: null,
      credits: null,
    })
    expect(updated).toMatchObject({ name: null, expiresAt: null, rateLimit: null, credits: null })
  })

  it('leaves fields it was not given untouched', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o', name: 'n', scopes: ['a'], meta: { m: 1 } })
    const updated = await keyward.keys.update(record.id, { disabled: true })
    expect(updated).toMatchObject({ name: 'n', scopes: ['a'], meta: { m: 1 }, disabled: true })
  })

  it.each<[string, UpdateKeyInput]>([
    ['name', { name: 42 as unknown as string }],
    ['scopes', { scopes: ['ok', ''] }],
    ['expiresAt', { expiresAt: 'tomorrow' as unknown as Date }],
    ['disabled', { disabled: 'yes' as unknown as boolean }],
    ['rateLimit.points', { rateLimit: { points: -1, duration: 1 } }],
    ['credits.remaining', { credits: { remaining: -5 } }],
    ['meta', { meta: null as unknown as Record<string, unknown> }],
  ])(
    'rejects an invalid %s with an InvalidArgumentError naming it, changing nothing',
    async (field, patch) => {
      const { keyward } = setup()
      const { record } = await keyward.keys.create({ ownerId: 'o', name: 'n', scopes: ['a'] })
      await expect(keyward.keys.update(record.id, patch)).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        field,
      })
      expect(await keyward.keys.get(record.id)).toEqual(record)
    },
  )

  it('throws KeyNotFoundError for an unknown id', async () => {
    const { keyward } = setup()
    await expect(keyward.keys.update('AAAAAAAAAAAA', { name: 'x' })).rejects.toBeInstanceOf(KeyNotFoundError)
    await expect(keyward.keys.update('AAAAAAAAAAAA', { name: 'x' })).rejects.toMatchObject({
      id: 'AAAAAAAAAAAA',
    })
  })

  it('emits key.updated', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o' })
    const events: KeyLifecycleEvent[] = []
    keyward.events.on('key.updated', (event) => events.push(event))
    const updated = await keyward.keys.update(record.id, { name: 'x' })
    expect(events).toEqual([
      { type: 'key.updated', key: updated, timestamp: START, actor: null, reason: null },
    ])
  })
})

describe('keys.revoke', () => {
  it('revokes the key: verify answers REVOKED from then on', async () => {
    const { keyward, clock } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    clock.advance(100)
    const revoked = await keyward.keys.revoke(record.id)
    expect(revoked.revokedAt).toEqual(new Date(START + 100))
    expect(await keyward.verify(key)).toMatchObject({ code: 'REVOKED' })
  })

  it('is idempotent: revoking twice keeps the first revocation time and emits once', async () => {
    const { keyward, clock } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o' })
    const events: KeyLifecycleEvent[] = []
    keyward.events.on('key.revoked', (event) => events.push(event))
    const first = await keyward.keys.revoke(record.id)
    clock.advance(1000)
    const second = await keyward.keys.revoke(record.id)
    expect(second).toEqual(first)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ type: 'key.revoked', key: { id: record.id } })
  })

  it('throws KeyNotFoundError for an unknown id', async () => {
    const { keyward } = setup()
    await expect(keyward.keys.revoke('AAAAAAAAAAAA')).rejects.toBeInstanceOf(KeyNotFoundError)
    await expect(keyward.keys.revoke(undefined as unknown as string)).rejects.toBeInstanceOf(KeyNotFoundError)
  })

  it('cannot be undone by update', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.keys.revoke(record.id)
    await keyward.keys.update(record.id, { disabled: false, expiresAt: null })
    expect(await keyward.verify(key)).toMatchObject({ code: 'REVOKED' })
  })
})

describe('keys.rotate', () => {
  it('issues a new key that keeps owner, name, scopes, limits, credits, meta and environment', async () => {
    const { keyward, clock } = setup()
    const { record } = await keyward.keys.create({
      ownerId: 'org',
      name: 'sync',
      environment: 'test',
      scopes: ['a', 'b:*'],
      expiresAt: new Date(START + 86_400_000),
      rateLimit: [
        { points: 3, duration: 1 },
        { points: 5, duration: 3600 },
      ],
      credits: { remaining: 50, refill: { amount: 50, interval: 60_000 } },
      meta: { plan: 'pro' },
    })
    clock.advance(10)
    const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 1000 })
    expect(rotated.key.startsWith('acme_test_')).toBe(true)
    expect(parseKey(rotated.key)?.id).toBe(rotated.record.id)
    expect(rotated.record.id).not.toBe(record.id)
    expect(rotated.record).toMatchObject({
      ownerId: 'org',
      name: 'sync',
      environment: 'test',
      scopes: ['a', 'b:*'],
      expiresAt: new Date(START + 86_400_000),
      rateLimit: record.rateLimit,
      credits: { remaining: 50, refill: { amount: 50, interval: 60_000 } },
      meta: { plan: 'pro' },
      rotatedFrom: record.id,
      rotatedTo: null,
      revokedAt: null,
      createdAt: new Date(START + 10),
    })
    expect(rotated.previous).toMatchObject({ id: record.id, rotatedTo: rotated.record.id })
    await expectNoSecrets(keyward, rotated.key, rotated.record)
    const owned = await keyward.keys.list({ ownerId: 'org' })
    expect(owned.items.map((item) => item.id)).toEqual([record.id, rotated.record.id])
  })

  it('keeps the old key valid until the grace period ends, then EXPIRED (injected clock)', async () => {
    const { keyward, clock } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 60_000 })
    expect(rotated.previous.expiresAt).toEqual(new Date(START + 60_000))
    expect((await keyward.verify(key)).valid).toBe(true)
    expect((await keyward.verify(rotated.key)).valid).toBe(true)
    clock.advance(59_999)
    expect((await keyward.verify(key)).valid).toBe(true)
    clock.advance(1)
    expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'EXPIRED' })
    expect((await keyward.verify(rotated.key)).valid).toBe(true)
  })

  it('never extends the old key beyond its own expiry', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(START + 1000) })
    const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 60_000 })
    expect(rotated.previous.expiresAt).toEqual(new Date(START + 1000))
  })

  it('with gracePeriodMs 0 (the default) the old key fails at once', async () => {
    for (const options of [{ gracePeriodMs: 0 }, undefined]) {
      const { keyward } = setup()
      const { key, record } = await keyward.keys.create({ ownerId: 'o' })
      const rotated = await keyward.keys.rotate(record.id, options)
      expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'REVOKED' })
      expect((await keyward.verify(rotated.key)).valid).toBe(true)
    }
  })

  it('lets the new key have its own expiry', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(START + 1000) })
    const later = await keyward.keys.rotate(record.id, { expiresAt: new Date(START + 9000) })
    expect(later.record.expiresAt).toEqual(new Date(START + 9000))
    const { record: other } = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(START + 1000) })
    const never = await keyward.keys.rotate(other.id, { expiresAt: null })
    expect(never.record.expiresAt).toBeNull()
  })

  it('refuses to rotate an expired key into an already-expired successor, unless given a new expiry', async () => {
    const { keyward, clock } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o', expiresAt: new Date(START + 1000) })
    clock.advance(2000)
    await expect(keyward.keys.rotate(record.id)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      field: 'expiresAt',
    })
    expect((await keyward.keys.list({ ownerId: 'o' })).items).toHaveLength(1)
    const renewed = await keyward.keys.rotate(record.id, { expiresAt: new Date(START + 60_000) })
    expect((await keyward.verify(renewed.key)).valid).toBe(true)
  })

  it('refuses to rotate a revoked key, and creates nothing', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.keys.revoke(record.id)
    await expect(keyward.keys.rotate(record.id)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      field: 'id',
    })
    expect((await keyward.keys.list({ ownerId: 'o' })).items).toHaveLength(1)
  })

  it('refuses to rotate a key that was already rotated', async () => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o' })
    const first = await keyward.keys.rotate(record.id, { gracePeriodMs: 10_000 })
    await expect(keyward.keys.rotate(record.id, { gracePeriodMs: 10_000 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    // the successor can be rotated in turn
    const second = await keyward.keys.rotate(first.record.id)
    expect(second.record.rotatedFrom).toBe(first.record.id)
  })

  it.each([-1, 1.5, Number.NaN])('rejects gracePeriodMs %s', async (gracePeriodMs) => {
    const { keyward } = setup()
    const { record } = await keyward.keys.create({ ownerId: 'o' })
    await expect(keyward.keys.rotate(record.id, { gracePeriodMs })).rejects.toMatchObject({
      field: 'gracePeriodMs',
    })
  })

  it('throws KeyNotFoundError for an unknown id', async () => {
    const { keyward } = setup()
    await expect(keyward.keys.rotate('AAAAAAAAAAAA')).rejects.toBeInstanceOf(KeyNotFoundError)
  })

  it('emits key.rotated with the old record and its successor', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    const events: KeyLifecycleEvent[] = []
    keyward.events.on('key.rotated', (event) => events.push(event))
    const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 500 })
    expect(events).toEqual([
      {
        type: 'key.rotated',
        key: rotated.previous,
        successor: rotated.record,
        timestamp: START,
        actor: null,
        reason: null,
      },
    ])
    const json = JSON.stringify(events)
    expect(json).not.toContain(parseKey(key)?.secret)
    expect(json).not.toContain(parseKey(rotated.key)?.secret)
  })

  it('spends the old key’s requests from the successor’s credits during the grace period', async () => {
    const { keyward } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'o', credits: { remaining: 3 } })
    await keyward.verify(key) // 2 left
    const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 60_000 })
    expect(rotated.record.credits?.remaining).toBe(2)
    expect(await keyward.verify(key)).toMatchObject({ valid: true, credits: { remaining: 1 } })
    expect(await keyward.verify(rotated.key)).toMatchObject({ valid: true, credits: { remaining: 0 } })
    expect(await keyward.verify(key)).toMatchObject({ code: 'QUOTA_EXCEEDED' })
    expect(await keyward.verify(rotated.key)).toMatchObject({ code: 'QUOTA_EXCEEDED' })
  })
})
