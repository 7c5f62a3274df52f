import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createKeyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { singleNodeClient, TEST_SECRET } from '../support/redis-fixtures.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

let server: RedisServer
const children: ChildProcess[] = []

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await server?.dispose()
})

interface Report {
  event: 'ready' | 'rejected'
  at: number
  code?: string
}

function startVerifier(key: string): { reports: AsyncIterator<Report>; child: ChildProcess } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/redis/fixtures/verify-loop.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, REDIS_PORT: String(server.port), KEYWARD_SECRET: TEST_SECRET, KEY: key },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const lines = createInterface({ input: child.stdout! })
  async function* parse(): AsyncGenerator<Report> {
    for await (const line of lines) yield JSON.parse(line) as Report
  }
  return { reports: parse(), child }
}

async function next(reports: AsyncIterator<Report>, timeoutMs: number): Promise<Report> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no report from the child within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    const result = await Promise.race([reports.next(), timeout])
    if (result.done) throw new Error('the child exited without reporting')
    return result.value
  } finally {
    clearTimeout(timer)
  }
}

it('a revoke in one process is enforced by another process within a second', async () => {
  const client = singleNodeClient(server)
  await client.connect()
  const keyward = createKeyward({ prefix: 'acme', secret: TEST_SECRET, store: new RedisStore({ client }) })
  try {
    const { key, record } = await keyward.keys.create({ ownerId: 'org_two_processes' })
    const { reports } = startVerifier(key)
    expect((await next(reports, 15_000)).event).toBe('ready')

    const revokeStarted = Date.now()
    await keyward.keys.revoke(record.id)
    const rejected = await next(reports, 5_000)
    const latencyMs = rejected.at - revokeStarted
    expect(rejected).toMatchObject({ event: 'rejected', code: 'REVOKED' })
    expect(latencyMs).toBeLessThan(1000)
    console.log(`revocation reached the other process in ${latencyMs} ms`)
  } finally {
    await keyward.close()
    client.disconnect()
  }
})
