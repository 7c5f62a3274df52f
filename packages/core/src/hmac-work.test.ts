/**
 * The HMAC half of the id guarantee (README, "HTTP contract"): an unknown id and a known id with a
 * wrong secret cost the same cryptographic work — exactly one HMAC-SHA-256 each — so the work done
 * does not tell them apart (only a store's cache can, by latency). test/security/id-oracle.test.ts
 * checks the answers themselves.
 */
import { describe, expect, it, vi } from 'vitest'
import { KeyHasher } from './hashing.ts'
import { createKeyward } from './index.ts'
import { formatKey, randomBase62 } from './key-format.ts'

describe('HMAC work per verification', () => {
  it('is one HMAC for an unknown id, for a known id with a wrong secret, and for a valid key', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key, record } = await keyward.keys.create({ ownerId: 'org' })
    const hmac = vi.spyOn(KeyHasher.prototype as unknown as { hmac: () => unknown }, 'hmac')
    const count = async (token: string) => {
      hmac.mockClear()
      await keyward.verify(token)
      return hmac.mock.calls.length
    }
    expect(await count(formatKey('sec', 'live', randomBase62(12), randomBase62(32)))).toBe(1)
    expect(await count(formatKey('sec', 'live', record.id, randomBase62(32)))).toBe(1)
    expect(await count(key)).toBe(1)
  })

  it('is one HMAC for a token of a key’s shape with a bad checksum, whether its id is known or not', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key, record } = await keyward.keys.create({ ownerId: 'org' })
    const hmac = vi.spyOn(KeyHasher.prototype as unknown as { hmac: () => unknown }, 'hmac')
    const verify = async (token: string) => {
      hmac.mockClear()
      const result = await keyward.verify(token)
      return { code: result.valid ? 'VALID' : result.code, hmacs: hmac.mock.calls.length }
    }
    // One character of the checksum changed: the key's own id, whose record MemoryStore holds.
    const last = key.at(-1) === 'A' ? 'B' : 'A'
    expect(await verify(key.slice(0, -1) + last)).toEqual({ code: 'MALFORMED', hmacs: 1 })
    // A character of the secret changed, checksum left: a typo in the middle.
    const typo = `${key.slice(0, -10)}${key.at(-10) === 'x' ? 'y' : 'x'}${key.slice(-9)}`
    expect(await verify(typo)).toEqual({ code: 'MALFORMED', hmacs: 1 })
    // The same with an id that does not exist, and with a character outside base62.
    const unknown = formatKey('sec', 'live', randomBase62(12), randomBase62(32))
    expect(await verify(unknown.slice(0, -1) + (unknown.at(-1) === 'A' ? 'B' : 'A'))).toEqual({
      code: 'MALFORMED',
      hmacs: 1,
    })
    expect(await verify(`sec_live_${record.id}_${'-'.repeat(32)}${key.slice(-6)}`)).toEqual({
      code: 'MALFORMED',
      hmacs: 1,
    })
    // Not a key's shape at all: no HMAC.
    expect(await verify('sec_live_short')).toEqual({ code: 'MALFORMED', hmacs: 0 })
    expect(await verify(key)).toEqual({ code: 'VALID', hmacs: 1 })
  })
})
