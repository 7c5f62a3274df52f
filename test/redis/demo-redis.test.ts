/**
 * The demo on Redis: with `REDIS_URL` set, `pnpm start` keeps its keys in Redis, so a second demo
 * process with the same `KEYWARD_SECRET` accepts the first one's keys; without a secret it makes
 * one up and says so. Both exit cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { TEST_SECRET } from '../support/redis-fixtures.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
let server: RedisServer
const demos: ChildProcess[] = []

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  for (const demo of demos) if (demo.exitCode === null) demo.kill('SIGKILL')
  await server?.dispose()
})

interface Demo {
  process: ChildProcess
  output: () => string
  base: string
  readKey: string
}

async function startDemo(env: Record<string, string>): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', REDIS_URL: server.url, KEYWARD_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  demos.push(child)
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 30_000)
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)))
  })
  const base = /listening on (http:\/\/\S+)/.exec(output)?.[1]
  const readKey = /READ_KEY=(\S+)/.exec(output)?.[1]
  if (base === undefined || readKey === undefined) throw new Error(`unexpected banner:\n${output}`)
  return { process: child, output: () => output, base, readKey }
}

async function stop(demo: Demo): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => demo.process.once('exit', resolve))
  demo.process.kill('SIGTERM')
  return exited
}

it('runs on Redis when REDIS_URL is set, and a second process accepts the first one’s keys', async () => {
  const first = await startDemo({ KEYWARD_SECRET: TEST_SECRET })
  const second = await startDemo({ KEYWARD_SECRET: TEST_SECRET })
  expect(first.output()).toContain(`store: Redis at redis://127.0.0.1:${server.port}`)
  expect(first.output()).not.toContain('KEYWARD_SECRET is not set')

  const response = await fetch(`${second.base}/v1/orders`, {
    headers: { authorization: `Bearer ${first.readKey}` },
  })
  expect(response.status).toBe(200)
  expect(response.headers.get('ratelimit-policy')).toContain('q=5')
  expect(
    (await server.cli('--scan', '--pattern', 'kw:{keys}:rec:*')).trim().split('\n').length,
  ).toBeGreaterThanOrEqual(4)

  expect(await stop(first)).toBe(0)
  expect(await stop(second)).toBe(0)
})

it('makes up a secret for the run, and says so, when KEYWARD_SECRET is not set', async () => {
  const demo = await startDemo({})
  expect(demo.output()).toContain('KEYWARD_SECRET is not set: generated a random one for this run')
  const response = await fetch(`${demo.base}/v1/orders`, { headers: { 'x-api-key': demo.readKey } })
  expect(response.status).toBe(200)
  expect(await stop(demo)).toBe(0)
})
