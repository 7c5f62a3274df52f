/**
 * The command guard's deadlines against a real server whose replies are held back (`CLIENT PAUSE`):
 * every command in flight fails at its own deadline, one timer serves them all, and none is left
 * behind once nothing is in flight.
 */
import { StoreError } from '@keyward/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CommandGuard } from '../../packages/redis/src/command-guard.ts'
import type { Redis } from '../support/ioredis.ts'
import { singleNodeClient } from '../support/redis-fixtures.ts'
import { type RedisServer, sleep, startRedisServer } from '../support/redis-server.ts'

const TIMEOUT_MS = 200

/** Timers this process holds (Node's own count of active `Timeout` handles). */
const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length

describe('CommandGuard deadlines', () => {
  let server: RedisServer
  let client: Redis
  let admin: Redis

  beforeAll(async () => {
    server = await startRedisServer()
    client = singleNodeClient(server)
    admin = singleNodeClient(server)
    await Promise.all([client.ping(), admin.ping()])
  })

  afterAll(async () => {
    client.disconnect()
    admin.disconnect()
    await server.dispose()
  })

  it('fails each stalled command at its own deadline, and answered ones with their reply', async () => {
    const guard = new CommandGuard(client, TIMEOUT_MS)
    expect(await guard.run('ping', () => client.ping())).toBe('PONG')
    await admin.client('PAUSE', 700, 'ALL')
    const settledAt = (promise: Promise<unknown>) =>
      promise.then(
        () => ({ ok: true, at: Date.now() }),
        (error: unknown) => ({ ok: false, error, at: Date.now() }),
      )
    const first = Date.now()
    const early = Array.from({ length: 50 }, (_, index) =>
      settledAt(guard.run(`get ${index}`, () => client.get('x'))),
    )
    await sleep(120)
    const second = Date.now()
    const late = settledAt(guard.run('get late', () => client.get('y')))
    const outcomes = await Promise.all(early)
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false)
      expect((outcome as { error: unknown }).error).toBeInstanceOf(StoreError)
      expect(String((outcome as { error: Error }).error.message)).toMatch(/timed out after 200 ms/)
      expect(outcome.at - first).toBeGreaterThanOrEqual(TIMEOUT_MS - 5)
    }
    const lateOutcome = await late
    expect(lateOutcome.ok).toBe(false)
    // Not swept with the first ones: the command sent later gets its whole timeout.
    expect(lateOutcome.at - second).toBeGreaterThanOrEqual(TIMEOUT_MS - 5)
    expect(guard.pending).toBe(0)
    // Once the pause ends, commands are answered again.
    await sleep(800 - (Date.now() - first))
    expect(await guard.run('ping', () => client.ping())).toBe('PONG')
  })

  it('answers many commands in flight and leaves no timer behind once none is', async () => {
    const guard = new CommandGuard(client, 10_000)
    const before = timers()
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, index) => guard.run('echo', () => client.echo(String(index)))),
    )
    expect(replies).toEqual(Array.from({ length: 500 }, (_, index) => String(index)))
    expect(guard.pending).toBe(0)
    expect(timers()).toBe(before)
  })
})
