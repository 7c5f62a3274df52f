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
})
