/**
 * The part of the `KeyStore` contract about removing records: `delete` and `purge`. Registered by
 * `describeStoreContract`; kept apart only to keep each file the size of one thought.
 */
import { expect, it } from 'vitest'
import type { KeyStore } from '../store/interface.ts'
import type { StoredKey } from '../types.ts'
import { makeRecord } from './store-contract.ts'

export function describeDeletion(store: () => KeyStore): void {
  const spend = async (record: StoredKey, cost: number, now: number) =>
    (
      await store().charge({
        keyId: record.id,
        chainId: record.chainId,
        ownerId: record.ownerId,
        limits: [],
        credits: { from: 'key', cost },
        now,
      })
    ).credits

  it('deletes a record: gone from get and from its owner list, listeners told, the record returned', async () => {
    const record = makeRecord()
    const sibling = makeRecord({ ownerId: record.ownerId })
    await store().create(record)
    await store().create(sibling)
    const heard: string[] = []
    const off = store().onChange((id) => heard.push(id))
    try {
      expect(await store().delete(record.id)).toEqual(record)
      expect(await store().get(record.id)).toBeNull()
      const page = await store().listByOwner(record.ownerId, { limit: 10 })
      expect(page.records.map((listed) => listed.id)).toEqual([sibling.id])
      expect(heard).toContain(record.id)
      expect(await store().delete(record.id)).toBeNull()
    } finally {
      off()
    }
  })

  it("forgets a deleted key's lastUsedAt", async () => {
    const record = makeRecord()
    await store().create(record)
    await store().recordUsage({
      origin: `contract-${record.id}`,
      sequence: 1,
      now: 1_700_000_000_000,
      series: [],
      rankings: [],
      lastUsed: [{ keyId: record.id, at: 1_700_000_000_000 }],
      verifications: [],
    })
    expect(await store().lastUsed([record.id])).toEqual([1_700_000_000_000])
    await store().delete(record.id)
    expect(await store().lastUsed([record.id])).toEqual([null])
  })

  it('answers null when deleting an id that never existed', async () => {
    expect(await store().delete('missing00009')).toBeNull()
  })

  it("deleting the newest key of a chain removes the chain's credit pool", async () => {
    const record = makeRecord({ credits: { remaining: 10, refill: null, refilledAt: 0 } })
    await store().create(record)
    expect(await spend(record, 1, 1)).toMatchObject({ spent: true, remaining: 9 })
    await store().delete(record.id)
    expect(await spend(record, 1, 2)).toBeNull()
  })

  it('deleting a replaced key leaves its successor and their shared credits alone', async () => {
    const old = makeRecord({ credits: { remaining: 10, refill: null, refilledAt: 0 } })
    await store().create(old)
    const successor = makeRecord({
      ownerId: old.ownerId,
      rotatedFrom: old.id,
      chainId: old.chainId,
      credits: { remaining: 10, refill: null, refilledAt: 0 },
    })
    await store().rotate(old.id, successor, { rotatedTo: successor.id, updatedAt: 5 })
    await store().delete(old.id)
    expect(await store().get(old.id)).toBeNull()
    expect(await store().get(successor.id)).toMatchObject({ id: successor.id })
    expect(await spend(successor, 4, 6)).toMatchObject({ spent: true, remaining: 6 })
  })

  it('purges records revoked or expired at or before a time, oldest first, up to a limit', async () => {
    const base = 1_600_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000
    const revoked = makeRecord({ revokedAt: base + 1 })
    const expired = makeRecord({ expiresAt: base + 2 })
    const later = makeRecord({ expiresAt: base + 10_000 })
    const active = makeRecord()
    for (const record of [revoked, expired, later, active]) await store().create(record)
    const first = await store().purge(base + 5, 1)
    expect(first).toEqual([revoked.id])
    const rest = await store().purge(base + 5, 100)
    expect(rest).toContain(expired.id)
    expect(rest).not.toContain(later.id)
    expect(rest).not.toContain(active.id)
    for (const id of [revoked.id, expired.id]) expect(await store().get(id)).toBeNull()
    for (const id of [later.id, active.id]) expect(await store().get(id)).not.toBeNull()
  })

  it('purges a record whose end moved into the past by an update, and not one moved out of it', async () => {
    const base = 1_500_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000
    const revokedNow = makeRecord()
    const unexpired = makeRecord({ expiresAt: base + 1 })
    await store().create(revokedNow)
    await store().create(unexpired)
    await store().update(revokedNow.id, { revokedAt: base + 2, updatedAt: base + 2 })
    await store().update(unexpired.id, { expiresAt: null, updatedAt: base + 3 })
    const purged = await store().purge(base + 10, 100)
    expect(purged).toContain(revokedNow.id)
    expect(purged).not.toContain(unexpired.id)
    expect(await store().get(unexpired.id)).not.toBeNull()
  })
}
