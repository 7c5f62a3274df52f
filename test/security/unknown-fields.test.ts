/**
 * Finding 9: `update(id, { enabled: false })` — the field name other products use — silently left
 * the key enabled. Unknown fields are refused with an error naming the field.
 */
import { createKeyward, InvalidArgumentError } from '@keyward/core'
import { describe, expect, it } from 'vitest'

describe('unknown fields in key management calls', () => {
  it('refuses update(id, { enabled: false }) naming `enabled`, and leaves the key as it was', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key, record } = await keyward.keys.create({ ownerId: 'org' })
    const error = await keyward.keys.update(record.id, { enabled: false } as never).catch((caught) => caught)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as InvalidArgumentError).field).toBe('enabled')
    expect((await keyward.verify(key)).valid).toBe(true)
  })

  it('refuses unknown fields in create, naming them', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    for (const [field, input] of [
      ['expires', { ownerId: 'org', expires: new Date() }],
      ['scope', { ownerId: 'org', scope: ['admin'] }],
      ['credits.refil', { ownerId: 'org', credits: { remaining: 1, refil: { amount: 1, interval: 1000 } } }],
      ['rateLimit.limit', { ownerId: 'org', rateLimit: { points: 1, duration: 1, limit: 5 } }],
    ] as const) {
      const error = await keyward.keys.create(input as never).catch((caught) => caught)
      expect(error, field).toBeInstanceOf(InvalidArgumentError)
      expect((error as InvalidArgumentError).field, field).toBe(field)
    }
  })

  it('refuses unknown rotate options, naming them', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { record } = await keyward.keys.create({ ownerId: 'org' })
    const error = await keyward.keys.rotate(record.id, { grace: 1000 } as never).catch((caught) => caught)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as InvalidArgumentError).field).toBe('grace')
  })
})
