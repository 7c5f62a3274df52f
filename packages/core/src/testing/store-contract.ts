/**
 * The `KeyStore` contract, as one suite that every store must pass unchanged: `MemoryStore` runs
 * it in core, `RedisStore` on a single node and on a cluster. It speaks only the interface, so a
 * store that passes it is a drop-in for keyward.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuplicateIdError } from '../errors.ts'
import type { KeyStore } from '../store/interface.ts'
import type { StoredKey } from '../types.ts'
import { describeAbuseContract } from './abuse-contract.ts'
import { describeCharge } from './charge-contract.ts'
import { describeDeletion } from './deletion-contract.ts'
import { describeUsageContract } from './usage-contract.ts'

export interface StoreHarness {
  store: KeyStore
  teardown: () => Promise<void>
}

let sequence = 0

/** A fresh, valid stored record; ids are unique per call so suites may share a backend. */
export function makeRecord(overrides: Partial<StoredKey> = {}): StoredKey {
  sequence += 1
  const id = `${Date.now().toString(36).slice(-6)}${sequence.toString(36).padStart(6, '0')}`.slice(-12)
  const record: StoredKey = {
    id,
    ownerId: `owner-${id}`,
    name: 'contract',
    environment: 'live',
    hash: 'aGFzaC1ub3QtYS1yZWFsLW9uZS1idXQtdGhlLXJpZ2h0LWxlbg',
    pepperVersion: 1,
    scopes: ['orders:read'],
    createdAt: 1_700_000_000_000 + sequence,
    updatedAt: 1_700_000_000_000 + sequence,
    expiresAt: null,
    revokedAt: null,
    disabled: false,
    rateLimit: null,
    credits: null,
    meta: { plan: 'pro', nested: { a: [1, 2] } },
    rotatedFrom: null,
    rotatedTo: null,
    chainId: id,
    allowedNetworks: null,
    ...overrides,
  }
  return { ...record, chainId: overrides.chainId ?? record.id }
}

export function describeStoreContract(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let harness: StoreHarness
    let store: KeyStore

    beforeAll(async () => {
      harness = await setup()
      store = harness.store
    })
    afterAll(async () => {
      await harness?.teardown()
    })

    describeDeletion(() => store)
    describeCharge(() => store)

    it('returns what it stored, and null for an unknown id', async () => {
      const record = makeRecord()
      await store.create(record)
      expect(await store.get(record.id)).toEqual(record)
      expect(await store.get('unknown00000')).toBeNull()
    })

    it('refuses a second record with a taken id with DuplicateIdError, leaving the first as it was', async () => {
      const record = makeRecord()
      await store.create(record)
      await expect(store.create({ ...record, name: 'impostor' })).rejects.toThrow(DuplicateIdError)
      expect(await store.get(record.id)).toEqual(record)
      const other = makeRecord()
      await store.create(other)
      await expect(
        store.rotate(other.id, { ...makeRecord(), id: record.id }, { rotatedTo: record.id, updatedAt: 1 }),
      ).rejects.toThrow(DuplicateIdError)
      expect(await store.get(other.id)).toEqual(other)
    })

    it('applies changes to a record and returns the new record', async () => {
      const record = makeRecord()
      await store.create(record)
      const updated = await store.update(record.id, {
        updatedAt: record.updatedAt + 5,
        scopes: ['orders:*'],
        disabled: true,
        expiresAt: 1_800_000_000_000,
        meta: { plan: 'free' },
      })
      expect(updated).toEqual({
        ...record,
        updatedAt: record.updatedAt + 5,
        scopes: ['orders:*'],
        disabled: true,
        expiresAt: 1_800_000_000_000,
        meta: { plan: 'free' },
      })
      expect(await store.get(record.id)).toEqual(updated)
    })

    it('replaces the hash and pepper version (a re-hash under a new pepper)', async () => {
      const record = makeRecord()
      await store.create(record)
      const rehashed = 'cmVoYXNoZWQtdW5kZXItdGhlLW5ldy1wZXBwZXItdmVyc2lvbg'
      await store.update(record.id, { updatedAt: record.updatedAt, hash: rehashed, pepperVersion: 2 })
      expect(await store.get(record.id)).toEqual({ ...record, hash: rehashed, pepperVersion: 2 })
    })

    it('answers null when updating a key that does not exist, and creates nothing', async () => {
      expect(await store.update('missing00000', { updatedAt: 1, disabled: true })).toBeNull()
      expect(await store.get('missing00000')).toBeNull()
    })

    it('notifies change listeners when a record is updated', async () => {
      const record = makeRecord()
      await store.create(record)
      const seen: string[] = []
      const off = store.onChange((id) => seen.push(id))
      await store.update(record.id, { updatedAt: record.updatedAt + 1, revokedAt: record.updatedAt + 1 })
      await expect.poll(() => seen.includes(record.id), { timeout: 2000 }).toBe(true)
      off()
    })

    it("lists an owner's keys oldest first, page by page, and nobody else's", async () => {
      const ownerId = `owner-list-${Date.now()}`
      const mine = []
      for (let i = 0; i < 7; i++) {
        const record = makeRecord({ ownerId })
        await store.create(record)
        mine.push(record.id)
      }
      await store.create(makeRecord({ ownerId: `${ownerId}-other` }))
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: Awaited<ReturnType<KeyStore['listByOwner']>> = await store.listByOwner(
          ownerId,
          cursor === null ? { limit: 3 } : { limit: 3, cursor },
        )
        expect(page.records.length).toBeLessThanOrEqual(3)
        seen.push(...page.records.map((record) => record.id))
        cursor = page.cursor
        pages += 1
      } while (cursor !== null && pages < 10)
      expect(seen).toEqual(mine)
      expect(pages).toBe(3)
    })

    it('gives an empty page for an owner without keys', async () => {
      expect(await store.listByOwner('nobody-at-all', { limit: 10 })).toEqual({ records: [], cursor: null })
    })

    it('rotates atomically: the successor exists and the old record carries the changes', async () => {
      const old = makeRecord()
      await store.create(old)
      const successor = makeRecord({ ownerId: old.ownerId, rotatedFrom: old.id })
      const previous = await store.rotate(old.id, successor, {
        updatedAt: old.updatedAt + 1,
        rotatedTo: successor.id,
        expiresAt: old.updatedAt + 60_000,
      })
      expect(previous).toEqual({
        ...old,
        updatedAt: old.updatedAt + 1,
        rotatedTo: successor.id,
        expiresAt: old.updatedAt + 60_000,
      })
      expect(await store.get(successor.id)).toEqual(successor)
      const listed = await store.listByOwner(old.ownerId, { limit: 10 })
      expect(listed.records.map((record) => record.id)).toEqual([old.id, successor.id])
    })

    it('does not insert the successor when rotating a key that does not exist', async () => {
      const successor = makeRecord()
      expect(
        await store.rotate('missing00001', successor, { updatedAt: 1, rotatedTo: successor.id }),
      ).toBeNull()
      expect(await store.get(successor.id)).toBeNull()
    })

    describeUsageContract(() => store)
    describeAbuseContract(() => store)
  })
}
