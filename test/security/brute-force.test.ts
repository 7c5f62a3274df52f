/**
 * Finding 3 of the adversarial review: the brute-force guard counted IPv6 addresses one by one
 * (1,000 wrong keys from one /64: none blocked); recorded an attempt only after the lookup (500
 * concurrent wrong keys from one address: all 500 reached the store); cleared its whole block list
 * at 100,000 entries (the attacker unblocked with everyone else); grew without bound; and locked a
 * valid key out when it shared a NAT address with an attacker.
 *
 * The guard now belongs to the keyward instance (`createKeyward({ bruteForce })`), shared by every
 * `apiKeyAuth` of it. These tests drive it through the framework-free authenticator, on both
 * stores; test/security/brute-force-shared.test.ts covers several processes on one Redis, and
 * test/security/trust-proxy.test.ts spoofed `X-Forwarded-For`.
 */
import type { KeyStore, Keyward } from '@keyward/core'
import { type Authentication, createAuthenticator, type HttpRequestView } from '@keyward/core/adapter'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { describe, expect, it, vi } from 'vitest'
import { eachStore } from './stores.ts'

const view = (clientAddress: string, token: string): HttpRequestView => ({
  getHeader: (name) => (name === 'x-api-key' ? token : undefined),
  getQuery: () => undefined,
  clientAddress,
})

/** A well-formed key (checksum and all) whose id does not exist: what a guesser sends. */
const madeUpKey = () => formatKey('sec', 'live', randomBase62(12), randomBase62(32))
/** The id of `key` with another secret. */
const withOtherSecret = (key: string) =>
  formatKey('sec', 'live', key.split('_')[2] as string, randomBase62(32))

/** Counts the lookups verify makes: `peek` answers (anything but "ask `get`") and `get` calls. */
function countLookups(store: KeyStore): () => number {
  let lookups = 0
  const peek = store.peek?.bind(store)
  if (peek !== undefined) {
    vi.spyOn(store, 'peek').mockImplementation((id) => {
      const found = peek(id)
      if (found !== undefined) lookups++
      return found
    })
  }
  const get = store.get.bind(store)
  vi.spyOn(store, 'get').mockImplementation((id) => {
    lookups++
    return get(id)
  })
  return () => lookups
}

const statusOf = (outcome: Authentication) => (outcome.ok ? 200 : outcome.response.status)

function tally(outcomes: Authentication[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const outcome of outcomes) counts[statusOf(outcome)] = (counts[statusOf(outcome)] ?? 0) + 1
  return counts
}

async function sequentially(count: number, request: (index: number) => Promise<Authentication>) {
  const outcomes: Authentication[] = []
  for (let index = 0; index < count; index++) outcomes.push(await request(index))
  return outcomes
}

function guarded(keyward: Keyward) {
  const authenticator = createAuthenticator(keyward)
  return (address: string, token: string) => authenticator.authenticate(view(address, token))
}

eachStore(({ name, fresh }) => {
  describe(`brute-force guard (${name})`, () => {
    it('groups IPv6 clients by /64: 1,000 wrong keys from one /64 get blocked after `points`', async () => {
      const keyward = await fresh({ bruteForce: { points: 5, duration: 60, blockDuration: 300 } })
      const authenticate = guarded(keyward)
      const hex = (value: number) => (value & 0xffff).toString(16)
      const outcomes = await sequentially(1000, (index) =>
        authenticate(`2001:db8:1:2:${hex(index)}:${hex(index * 7)}:${hex(index * 13)}:1`, madeUpKey()),
      )
      expect(tally(outcomes)).toEqual({ 401: 5, 429: 995 })
      // Another /64 is another subscriber.
      expect(statusOf(await authenticate('2001:db8:1:3::1', madeUpKey()))).toBe(401)
    })

    it('takes the IPv6 grouping from `ipv6Prefix`', async () => {
      const keyward = await fresh({
        bruteForce: { points: 3, duration: 60, blockDuration: 300, ipv6Prefix: 48 },
      })
      const authenticate = guarded(keyward)
      const outcomes = await sequentially(10, (index) => authenticate(`2001:db8:7:${index}::1`, madeUpKey()))
      expect(tally(outcomes)).toEqual({ 401: 3, 429: 7 })
    })

    it('counts an IPv4-mapped IPv6 address as the IPv4 address it carries', async () => {
      const keyward = await fresh({ bruteForce: { points: 4, duration: 60, blockDuration: 300 } })
      const authenticate = guarded(keyward)
      const outcomes = await sequentially(8, (index) =>
        authenticate(index % 2 === 0 ? '203.0.113.7' : '::ffff:203.0.113.7', madeUpKey()),
      )
      expect(tally(outcomes)).toEqual({ 401: 4, 429: 4 })
    })

    it('counts an attempt before the lookup: of 500 concurrent wrong keys, at most `points` reach the store', async () => {
      const keyward = await fresh({ bruteForce: { points: 10, duration: 60, blockDuration: 300 } })
      const authenticate = guarded(keyward)
      const lookups = countLookups(keyward.store)
      const outcomes = await Promise.all(
        Array.from({ length: 500 }, () => authenticate('198.51.100.23', madeUpKey())),
      )
      expect(lookups()).toBeLessThanOrEqual(10)
      expect(tally(outcomes)).toEqual({ 401: 10, 429: 490 })
      // And the address is now blocked outright.
      const before = lookups()
      expect(statusOf(await authenticate('198.51.100.23', madeUpKey()))).toBe(429)
      expect(lookups()).toBe(before)
    })

    it('refunds the attempt when the key verifies: valid keys never add up to a block', async () => {
      const keyward = await fresh({ bruteForce: { points: 3, duration: 60, blockDuration: 300 } })
      const authenticate = guarded(keyward)
      const keys: string[] = []
      for (let index = 0; index < 10; index++) {
        keys.push((await keyward.keys.create({ ownerId: 'org_busy' })).key)
      }
      // Ten different keys, each new to this process, one after another, then all at once.
      expect(
        tally(await sequentially(10, (index) => authenticate('198.51.100.40', keys[index] as string))),
      ).toEqual({
        200: 10,
      })
      expect(tally(await Promise.all(keys.map((key) => authenticate('198.51.100.40', key))))).toEqual({
        200: 10,
      })
      // A client that sends one new key many times at once is one attempt in flight, not many.
      const { key } = await keyward.keys.create({ ownerId: 'org_busy' })
      expect(
        tally(await Promise.all(Array.from({ length: 50 }, () => authenticate('198.51.100.41', key)))),
      ).toEqual({ 200: 50 })
    })

    it('keeps a key verified in this process working from an address an attacker got blocked (NAT)', async () => {
      const keyward = await fresh({ bruteForce: { points: 3, duration: 60, blockDuration: 300 } })
      const authenticate = guarded(keyward)
      const { key: colleague } = await keyward.keys.create({ ownerId: 'org_nat' })
      const { key: newcomer } = await keyward.keys.create({ ownerId: 'org_nat' })
      const nat = '192.0.2.80'
      expect(statusOf(await authenticate(nat, colleague))).toBe(200)
      await sequentially(3, () => authenticate(nat, madeUpKey()))
      expect(statusOf(await authenticate(nat, madeUpKey()))).toBe(429)

      expect(statusOf(await authenticate(nat, colleague))).toBe(200)
      // A key this process has not seen verified is held back like any other attempt.
      expect(statusOf(await authenticate(nat, newcomer))).toBe(429)
      // A verified id with a wrong secret goes on to verify — and fails, and counts.
      const lookups = countLookups(keyward.store)
      expect(statusOf(await authenticate(nat, withOtherSecret(colleague)))).toBe(401)
      expect(lookups()).toBe(1)
    })

    it('never clears the block list: a blocked attacker stays blocked while 100,000 others get blocked', async () => {
      const keyward = await fresh({
        bruteForce: { points: 1, duration: 60, blockDuration: 300, maxAddresses: 200_000 },
      })
      const authenticate = guarded(keyward)
      expect(statusOf(await authenticate('198.51.100.66', 'not-a-key'))).toBe(401)
      expect(statusOf(await authenticate('198.51.100.66', 'not-a-key'))).toBe(429)
      for (let index = 0; index < 100_000; index++) {
        await authenticate(`10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, 'not-a-key')
      }
      expect(statusOf(await authenticate('198.51.100.66', 'not-a-key'))).toBe(429)
    }, 120_000)

    it('keeps a blocked attacker blocked while 100,000 one-off addresses come and go through a small cap', async () => {
      const keyward = await fresh({
        bruteForce: { points: 3, duration: 60, blockDuration: 300, maxAddresses: 1000 },
      })
      const authenticate = guarded(keyward)
      await sequentially(3, () => authenticate('198.51.100.67', 'not-a-key'))
      expect(statusOf(await authenticate('198.51.100.67', 'not-a-key'))).toBe(429)
      for (let index = 0; index < 100_000; index++) {
        await authenticate(`10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, 'not-a-key')
      }
      expect(statusOf(await authenticate('198.51.100.67', 'not-a-key'))).toBe(429)
      expect(keyward.guard.size).toBeLessThanOrEqual(1000)
    }, 120_000)

    it('stays within maxAddresses: 200,000 one-off addresses do not grow it', async () => {
      const keyward = await fresh({
        bruteForce: { points: 20, duration: 60, blockDuration: 300, maxAddresses: 10_000 },
      })
      const authenticate = guarded(keyward)
      for (let index = 0; index < 200_000; index++) {
        await authenticate(`10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, 'not-a-key')
        if (index % 20_000 === 0) expect(keyward.guard.size).toBeLessThanOrEqual(10_000)
      }
      expect(keyward.guard.size).toBeLessThanOrEqual(10_000)
      expect(keyward.guard.size).toBeGreaterThan(0)
    }, 120_000)

    it('lists blocks and lifts one with keyward.guard.unblock(address)', async () => {
      const keyward = await fresh({ bruteForce: { points: 2, duration: 60, blockDuration: 300 } })
      const authenticate = guarded(keyward)
      await sequentially(2, () => authenticate('2001:db8:aa:bb::5', madeUpKey()))
      expect(statusOf(await authenticate('2001:db8:aa:bb::6', madeUpKey()))).toBe(429)
      const blocks = await keyward.guard.blocks()
      expect(blocks.map((block) => block.network)).toEqual(['2001:db8:aa:bb::/64'])
      expect(blocks[0]?.until).toBeGreaterThan(keyward.now())

      expect(await keyward.guard.unblock('2001:db8:aa:bb::7')).toBe(true)
      expect(await keyward.guard.blocks()).toEqual([])
      expect(statusOf(await authenticate('2001:db8:aa:bb::5', madeUpKey()))).toBe(401)
      expect(await keyward.guard.unblock('203.0.113.1')).toBe(false)
    })

    it("emits 'guard.blocked' with the network and the block's end", async () => {
      const keyward = await fresh({ bruteForce: { points: 2, duration: 60, blockDuration: 120 } })
      const authenticate = guarded(keyward)
      const blocked: unknown[] = []
      keyward.events.on('guard.blocked', (event) => blocked.push(event))
      await sequentially(4, () => authenticate('2001:db8:cc::1', madeUpKey()))
      expect(blocked).toEqual([
        {
          type: 'guard.blocked',
          network: '2001:db8:cc::/64',
          until: expect.any(Number),
          failures: 2,
          timestamp: expect.any(Number),
        },
      ])
      const event = blocked[0] as { until: number; timestamp: number }
      expect(event.until - event.timestamp).toBe(120_000)
    })

    it('applies to every apiKeyAuth of the keyward; bruteForce: false opts one out', async () => {
      const keyward = await fresh({ bruteForce: { points: 2, duration: 60, blockDuration: 300 } })
      const first = createAuthenticator(keyward)
      const second = createAuthenticator(keyward)
      const open = createAuthenticator(keyward, { bruteForce: false })
      await first.authenticate(view('198.51.100.90', madeUpKey()))
      await second.authenticate(view('198.51.100.90', madeUpKey()))
      expect(statusOf(await first.authenticate(view('198.51.100.90', madeUpKey())))).toBe(429)
      expect(statusOf(await second.authenticate(view('198.51.100.90', madeUpKey())))).toBe(429)
      expect(statusOf(await open.authenticate(view('198.51.100.90', madeUpKey())))).toBe(401)
    })
  })
})
