/**
 * Findings 1 and 2 of the adversarial review: a rotation must not multiply a key's limits or
 * credits, and revoking, disabling or narrowing the successor must reach the predecessor that is
 * still in its grace period ("rotate because it leaked, then revoke" stops the whole chain).
 */
import { describe, expect, it } from 'vitest'
import { eachStore } from './stores.ts'

const DAY = 86_400_000

eachStore(({ name, fresh }) => {
  describe(`rotation chains (${name})`, () => {
    it('gives old and new key ONE rate-limit budget during the grace period', async () => {
      const keyward = await fresh()
      const { key: old, record } = await keyward.keys.create({
        ownerId: 'org_rot',
        rateLimit: { points: 5, duration: 60 },
      })
      const { key: successor } = await keyward.keys.rotate(record.id, { gracePeriodMs: DAY })
      let accepted = 0
      for (let index = 0; index < 20; index++) {
        const result = await keyward.verify(index % 2 === 0 ? old : successor)
        if (result.valid) accepted++
      }
      expect(accepted).toBe(5)
    })

    it('keeps the budget through a second rotation: three keys of one chain share it', async () => {
      const keyward = await fresh()
      const { key: first, record } = await keyward.keys.create({
        ownerId: 'org_rot',
        rateLimit: { points: 6, duration: 60 },
      })
      const second = await keyward.keys.rotate(record.id, { gracePeriodMs: DAY })
      const third = await keyward.keys.rotate(second.record.id, { gracePeriodMs: DAY })
      let accepted = 0
      for (let index = 0; index < 30; index++) {
        const result = await keyward.verify([first, second.key, third.key][index % 3] as string)
        if (result.valid) accepted++
      }
      expect(accepted).toBe(6)
    })

    it('spends one credit pool across repeated rotations with grace (100 credits are 100, not 300)', async () => {
      const keyward = await fresh()
      const created = await keyward.keys.create({ ownerId: 'org_rot', credits: { remaining: 100 } })
      const keys = [created.key]
      let headId = created.record.id
      for (let rotation = 0; rotation < 3; rotation++) {
        const rotated = await keyward.keys.rotate(headId, { gracePeriodMs: DAY })
        keys.push(rotated.key)
        headId = rotated.record.id
      }
      let spent = 0
      for (let round = 0; round < 150; round++) {
        for (const key of keys) if ((await keyward.verify(key)).valid) spent++
      }
      expect(spent).toBe(100)
    })

    it('revoking the successor stops the predecessor still in grace', async () => {
      const keyward = await fresh()
      const { key: old, record } = await keyward.keys.create({ ownerId: 'org_rot', scopes: ['admin'] })
      const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: DAY })
      expect((await keyward.verify(old, { scopes: 'admin' })).valid).toBe(true)
      await keyward.keys.update(rotated.record.id, { scopes: [] })
      expect(await keyward.verify(old, { scopes: 'admin' })).toMatchObject({
        valid: false,
        code: 'INSUFFICIENT_SCOPE',
      })
      await keyward.keys.revoke(rotated.record.id)
      expect(await keyward.verify(old)).toMatchObject({ valid: false, code: 'REVOKED' })
      expect(await keyward.verify(rotated.key)).toMatchObject({ valid: false, code: 'REVOKED' })
    })

    it('disabling the newest key of a chain disables every predecessor in grace', async () => {
      const keyward = await fresh()
      const { key: first, record } = await keyward.keys.create({ ownerId: 'org_rot' })
      const second = await keyward.keys.rotate(record.id, { gracePeriodMs: DAY })
      const third = await keyward.keys.rotate(second.record.id, { gracePeriodMs: DAY })
      await keyward.keys.update(third.record.id, { disabled: true })
      for (const key of [first, second.key, third.key]) {
        expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'DISABLED' })
      }
      await keyward.keys.update(third.record.id, { disabled: false })
      for (const key of [first, second.key, third.key]) expect((await keyward.verify(key)).valid).toBe(true)
    })
  })
})
