/**
 * Finding 3, across processes: the brute-force guard was per process, so an attacker spread over a
 * service's processes (a load balancer does that for free) got `points` tries from each. On
 * RedisStore the failures are now counted in Redis and a block reaches every process's local
 * block list over pub/sub — while a request from an address without failures still costs no Redis
 * command for the guard. Each "process" here is a keyward with its own client and RedisStore on
 * one redis-server and key prefix, as separate processes would be.
 */
import { createKeyward, type Keyward } from '@keyward/core'
import { type Authentication, createAuthenticator, type HttpRequestView } from '@keyward/core/adapter'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Redis } from '../support/ioredis.ts'
import { singleNodeClient, subscribed, TEST_SECRET, until } from '../support/redis-fixtures.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

let server: RedisServer
const clients: Redis[] = []
const keywards: Keyward[] = []
let prefixes = 0

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  for (const keyward of keywards) await keyward.close()
  for (const client of clients) client.disconnect()
  await server?.dispose()
})

const GUARD = { points: 4, duration: 60, blockDuration: 300 }

interface Process {
  keyward: Keyward
  client: Redis
  authenticate(address: string, token: string): Promise<Authentication>
}

async function processOn(keyPrefix: string, gapCheckMs?: number): Promise<Process> {
  const client = singleNodeClient(server)
  await client.connect()
  clients.push(client)
  const store = new RedisStore({ client, keyPrefix, ...(gapCheckMs === undefined ? {} : { gapCheckMs }) })
  await until(() => subscribed(store), 'the store to subscribe', 10_000)
  const keyward = createKeyward({ prefix: 'sec', secret: TEST_SECRET, store, bruteForce: GUARD })
  keywards.push(keyward)
  const authenticator = createAuthenticator(keyward)
  return {
    keyward,
    client,
    authenticate: (address, token) => authenticator.authenticate(view(address, token)),
  }
}

async function processes(count: number): Promise<Process[]> {
  const keyPrefix = `guard${++prefixes}:`
  const started: Process[] = []
  for (let index = 0; index < count; index++) started.push(await processOn(keyPrefix))
  return started
}

const view = (clientAddress: string, token: string): HttpRequestView => ({
  getHeader: (name) => (name === 'x-api-key' ? token : undefined),
  getQuery: () => undefined,
  clientAddress,
})

const madeUpKey = () => formatKey('sec', 'live', randomBase62(12), randomBase62(32))
const statusOf = (outcome: Authentication) => (outcome.ok ? 200 : outcome.response.status)

/** Counts every command the client sends. */
function countCommands(client: Redis): () => number {
  let sent = 0
  const send = client.sendCommand.bind(client)
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    sent++
    return send(...args)
  }) as Redis['sendCommand']
  return () => sent
}

describe('brute-force guard shared on Redis', () => {
  it('blocks an address in every process once it failed `points` times in one of them', async () => {
    const [a, b] = (await processes(2)) as [Process, Process]
    for (let index = 0; index < GUARD.points; index++) {
      expect(statusOf(await a.authenticate('203.0.113.50', madeUpKey()))).toBe(401)
    }
    await until(() => b.keyward.guard.blockedFor('203.0.113.50') > 0, 'the block to reach b', 5000)
    const gets = vi.spyOn(b.keyward.store, 'get')
    const peeks = vi.spyOn(b.keyward.store as { peek: (id: string) => unknown }, 'peek')
    expect(statusOf(await b.authenticate('203.0.113.50', madeUpKey()))).toBe(429)
    expect(gets).not.toHaveBeenCalled()
    expect(peeks).not.toHaveBeenCalled()
  })

  it('adds up failures spread over processes: 2 + 2 of 4 points block in all three', async () => {
    const [a, b, c] = (await processes(3)) as [Process, Process, Process]
    const address = '2001:db8:51::9'
    await a.authenticate(address, madeUpKey())
    await b.authenticate(address, madeUpKey())
    await a.authenticate('2001:db8:51::10', madeUpKey())
    await b.authenticate('2001:db8:51::11', madeUpKey())
    for (const process of [a, b, c]) {
      await until(
        () => process.keyward.guard.blockedFor(address) > 0,
        'the block to reach every process',
        5000,
      )
      expect(statusOf(await process.authenticate(address, madeUpKey()))).toBe(429)
    }
  })

  it('tells a process that starts later about the blocks in force', async () => {
    const keyPrefix = `guard${++prefixes}:`
    const early = await processOn(keyPrefix)
    for (let index = 0; index < GUARD.points; index++) await early.authenticate('198.51.100.3', madeUpKey())
    expect(early.keyward.guard.blockedFor('198.51.100.3')).toBeGreaterThan(0)
    const late = await processOn(keyPrefix)
    await until(
      () => late.keyward.guard.blockedFor('198.51.100.3') > 0,
      'the late process to learn the block',
      5000,
    )
    expect(statusOf(await late.authenticate('198.51.100.3', madeUpKey()))).toBe(429)
    expect((await late.keyward.guard.blocks()).map((block) => block.network)).toEqual(['198.51.100.3'])
  })

  it('lifts a block in every process with guard.unblock in one of them', async () => {
    const [a, b] = (await processes(2)) as [Process, Process]
    for (let index = 0; index < GUARD.points; index++) await a.authenticate('198.51.100.4', madeUpKey())
    await until(() => b.keyward.guard.blockedFor('198.51.100.4') > 0, 'the block to reach b', 5000)
    expect(await b.keyward.guard.unblock('198.51.100.4')).toBe(true)
    await until(() => a.keyward.guard.blockedFor('198.51.100.4') === 0, 'the unblock to reach a', 5000)
    expect(statusOf(await a.authenticate('198.51.100.4', madeUpKey()))).toBe(401)
    expect(await a.keyward.guard.blocks()).toEqual([])
  })

  it('costs no Redis command for a one-off failure, only from the second one of a network on', async () => {
    const a = await processOn(`guard${++prefixes}:`, 60_000)
    const commands = countCommands(a.client)
    await a.authenticate('not-an-address-1', 'not-a-key')
    await a.authenticate('198.51.100.7', 'not-a-key')
    expect(commands()).toBe(0)
    await a.authenticate('198.51.100.7', 'not-a-key')
    await until(() => commands() === 1, 'the shared count', 5000)
  })

  it('costs no Redis command for a request from an address without failures', async () => {
    // A long gap check keeps the store's background version read out of the count.
    const a = await processOn(`guard${++prefixes}:`, 60_000)
    const { key } = await a.keyward.keys.create({ ownerId: 'org_clean' })
    expect(statusOf(await a.authenticate('198.51.100.5', key))).toBe(200)
    // Someone else is failing meanwhile: the guard is busy, just not with this address.
    await a.authenticate('198.51.100.6', madeUpKey())
    const commands = countCommands(a.client)
    for (let index = 0; index < 20; index++)
      expect(statusOf(await a.authenticate('198.51.100.5', key))).toBe(200)
    expect(commands()).toBe(0)
  })
})
