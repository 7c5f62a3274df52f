import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KeyHasher } from './hashing.ts'
import { createKeyward } from './index.ts'
import { MemoryStore } from './store/memory-store.ts'

const V1 = 'pepper-version-one-0123456789abcdef'
const V2 = 'pepper-version-two-0123456789abcdef'
const TOKEN = 'acme_live_gn4A6m8CKdow_R7JVUKlwW5JjyWSlUqp68EHAhDVOeD2b3lFhBh'

/** Peppers v1 and v2 configured together: the overlap of a pepper rotation. */
const BOTH_PEPPERS = [
  { version: 1, value: V1 },
  { version: 2, value: V2 },
]
const hmac = (pepper: string, token: string) => createHmac('sha256', pepper).update(token).digest('base64url')

describe('KeyHasher', () => {
  it('hashes with HMAC-SHA-256(pepper, token), base64url', () => {
    const hasher = new KeyHasher([{ version: 1, value: V1 }])
    expect(hasher.hash(TOKEN)).toBe(hmac(V1, TOKEN))
    expect(hasher.hash(TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('hashes new keys with the highest version, in any order of configuration', () => {
    const hasher = new KeyHasher([
      { version: 2, value: V2 },
      { version: 1, value: V1 },
    ])
    expect(hasher.currentVersion).toBe(2)
    expect(hasher.hash(TOKEN)).toBe(hmac(V2, TOKEN))
    expect(hasher.hash(TOKEN, 1)).toBe(hmac(V1, TOKEN))
  })

  it('matches only the right token under the right version', () => {
    const hasher = new KeyHasher([
      { version: 1, value: V1 },
      { version: 2, value: V2 },
    ])
    const stored = hmac(V1, TOKEN)
    expect(hasher.matches(TOKEN, stored, 1)).toBe(true)
    expect(hasher.matches(TOKEN, stored, 2)).toBe(false)
    expect(hasher.matches(`${TOKEN.slice(0, -1)}i`, stored, 1)).toBe(false)
    expect(hasher.matches(TOKEN, stored, 3)).toBe(false)
  })

  it('answers false, never throws, for a corrupt stored hash', () => {
    const hasher = new KeyHasher([{ version: 1, value: V1 }])
    for (const stored of ['', 'not base64!', hmac(V1, TOKEN).slice(0, 20), `${hmac(V1, TOKEN)}AAAA`]) {
      expect(hasher.matches(TOKEN, stored, 1)).toBe(false)
    }
  })

  it('gives different hashes under different peppers', () => {
    expect(new KeyHasher([{ version: 1, value: V1 }]).hash(TOKEN)).not.toBe(
      new KeyHasher([{ version: 1, value: V2 }]).hash(TOKEN),
    )
  })

  it('makes a random pepper per process for the in-memory default', () => {
    expect(KeyHasher.ephemeral().hash(TOKEN)).not.toBe(KeyHasher.ephemeral().hash(TOKEN))
  })

  it('builds nothing from the options when neither secret nor secrets is set', () => {
    expect(KeyHasher.fromOptions(undefined, undefined)).toBeNull()
    expect(KeyHasher.fromOptions(V1, undefined)?.hash(TOKEN)).toBe(hmac(V1, TOKEN))
  })
})

describe('peppers through createKeyward', () => {
  it('stores the HMAC of the key under the configured secret, with its version', async () => {
    const keyward = createKeyward({ prefix: 'acme', secret: V1 })
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    const stored = await keyward.store.get(record.id)
    expect(stored?.hash).toBe(hmac(V1, key))
    expect(stored?.pepperVersion).toBe(1)
  })

  it('rotates peppers: new keys use v2, v1 keys verify while v1 is configured and are NOT_FOUND once it is removed', async () => {
    const store = new MemoryStore()
    const before = createKeyward({ prefix: 'acme', store, secrets: [{ version: 1, value: V1 }] })
    const old = await before.keys.create({ ownerId: 'o' })
    const seen = await before.keys.create({ ownerId: 'o' })
    expect((await store.get(old.record.id))?.pepperVersion).toBe(1)

    const during = createKeyward({ prefix: 'acme', store, secrets: BOTH_PEPPERS })
    const fresh = await during.keys.create({ ownerId: 'o' })
    const freshStored = await store.get(fresh.record.id)
    expect(freshStored?.pepperVersion).toBe(2)
    expect(freshStored?.hash).toBe(hmac(V2, fresh.key))
    expect((await during.verify(old.key)).valid).toBe(true)
    expect((await during.verify(fresh.key)).valid).toBe(true)

    // A v1 key that verifies while both peppers are configured is re-hashed under v2 on the way.
    expect((await during.verify(seen.key)).valid).toBe(true)
    await expect.poll(async () => (await store.get(seen.record.id))?.pepperVersion).toBe(2)
    expect((await store.get(seen.record.id))?.hash).toBe(hmac(V2, seen.key))

    const after = createKeyward({ prefix: 'acme', store, secrets: [{ version: 2, value: V2 }] })
    expect((await after.verify(seen.key)).valid).toBe(true)
    expect((await after.verify(fresh.key)).valid).toBe(true)
    // `old` verified under `during` too, so it moved to v2 as well; a key never seen while v1 and
    // v2 overlapped is what dropping v1 locks out.
    const unseen = await before.keys.create({ ownerId: 'o' })
    expect(await after.verify(unseen.key)).toEqual({ valid: false, code: 'NOT_FOUND' })
  })

  it('re-hashes a key under the current pepper only once, keeping its updatedAt', async () => {
    const store = new MemoryStore()
    const before = createKeyward({ prefix: 'acme', store, secrets: [{ version: 1, value: V1 }] })
    const { key, record } = await before.keys.create({ ownerId: 'o' })
    const during = createKeyward({ prefix: 'acme', store, secrets: BOTH_PEPPERS })
    const updates: string[] = []
    store.onChange((id) => updates.push(id))
    await Promise.all(Array.from({ length: 20 }, () => during.verify(key)))
    await expect.poll(async () => (await store.get(record.id))?.pepperVersion).toBe(2)
    for (let i = 0; i < 5; i++) expect((await during.verify(key)).valid).toBe(true)
    expect(updates).toEqual([record.id])
    expect((await store.get(record.id))?.updatedAt).toBe(record.updatedAt.getTime())
  })

  it('rejects keys hashed under another pepper of the same version (a changed secret)', async () => {
    const store = new MemoryStore()
    const a = createKeyward({ store, secret: V1 })
    const { key } = await a.keys.create({ ownerId: 'o' })
    const b = createKeyward({ store, secret: V2 })
    expect(await b.verify(key)).toEqual({ valid: false, code: 'NOT_FOUND' })
  })

  it('shares keys between instances configured with the same secret', async () => {
    const store = new MemoryStore()
    const a = createKeyward({ store, secret: V1 })
    const { key } = await a.keys.create({ ownerId: 'o' })
    expect((await createKeyward({ store, secret: V1 }).verify(key)).valid).toBe(true)
  })
})
