/**
 * HTTP overhead per framework, beside peer stacks, in one run: throughput and server CPU per
 * request of a bare route vs the same route behind keyward and behind do-it-yourself peers. The
 * servers run in one child process pinned to core 0; autocannon (and redis-server) run on core 1.
 * Variants are interleaved (every variant once per round) so drift hits them alike; ratios are
 * against the bare route of the same framework in the same run.
 *
 *   pnpm bench http        BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50 BENCH_ONLY=hono
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { getRequestListener } from '@hono/node-server'
import { createKeyward } from '@keyward/core'
import * as keywardExpress from '@keyward/express'
import * as keywardHono from '@keyward/hono'
import * as keywardKoa from '@keyward/koa'
import { RedisStore } from '@keyward/redis'
import autocannon from 'autocannon'
import express from 'express'
import { rateLimit } from 'express-rate-limit'
import { Hono, type MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { Redis } from 'ioredis'
import Koa from 'koa'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import { startRedisServer } from '../test/support/redis-server.ts'

interface Variant {
  name: string
  framework: 'hono' | 'express' | 'koa'
  /** What the table calls it. */
  label: string
}

const VARIANTS: readonly Variant[] = [
  { name: 'hono bare', framework: 'hono', label: 'bare Hono' },
  {
    name: 'hono diy',
    framework: 'hono',
    label: 'sha256(key) → Map + rate-limiter-flexible memory (DIY peer, no headers)',
  },
  {
    name: 'hono keyward',
    framework: 'hono',
    label: 'keyward, MemoryStore, rate limit + RateLimit headers + `requireScopes`',
  },
  {
    name: 'hono hmac',
    framework: 'hono',
    label: 'one HMAC-SHA-256 of the key per request, nothing else (floor)',
  },
  { name: 'hono bearer-auth', framework: 'hono', label: 'hono/bearer-auth, one static token (peer)' },
  {
    name: 'hono diy-redis',
    framework: 'hono',
    label: 'sha256 → Redis GET + RateLimiterRedis (DIY peer, 2 round trips)',
  },
  {
    name: 'hono keyward-redis',
    framework: 'hono',
    label: 'keyward, RedisStore strict, rate limit + credits (1 round trip)',
  },
  {
    name: 'hono keyward-local',
    framework: 'hono',
    label: 'keyward, RedisStore, local-first rate limit (0 round trips)',
  },
  { name: 'koa bare', framework: 'koa', label: 'bare Koa' },
  {
    name: 'koa diy',
    framework: 'koa',
    label: 'sha256(key) → Map + rate-limiter-flexible memory (DIY peer, no headers)',
  },
  { name: 'koa keyward', framework: 'koa', label: 'keyward, MemoryStore, rate limit + RateLimit headers' },
  { name: 'express bare', framework: 'express', label: 'bare Express' },
  { name: 'express peer', framework: 'express', label: 'express-rate-limit + a header check (peer)' },
  {
    name: 'express keyward',
    framework: 'express',
    label: 'keyward, MemoryStore, rate limit + RateLimit headers',
  },
]

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const ONLY = process.env.BENCH_ONLY // e.g. `hono`: run only the variants whose name contains it
const PAYLOAD = { hello: 'world' }
const UNLIMITED = { points: 1_000_000_000, duration: 60 }

/** In the child: builds every variant on its own port and reports the ports and the key. */
async function serve(redisPort: number): Promise<void> {
  const secret = randomBytes(32).toString('base64url')
  const keyward = createKeyward({ prefix: 'bench', secret, rateLimit: UNLIMITED })
  const { key } = await keyward.keys.create({ ownerId: 'org_bench', scopes: ['bench:read'] })
  const redis = new Redis({ port: redisPort, host: '127.0.0.1' })
  // The same key, on Redis: one keyward strict (limit + credits), one local-first (limit only).
  const redisStore = new RedisStore({ client: redis, keyPrefix: 'bench:' })
  const onRedis = createKeyward({ prefix: 'bench', secret, store: redisStore })
  const strict = await onRedis.keys.create({
    ownerId: 'org_bench',
    scopes: ['bench:read'],
    rateLimit: UNLIMITED,
    credits: { remaining: 1_000_000_000_000 },
  })
  const local = await onRedis.keys.create({
    ownerId: 'org_bench',
    scopes: ['bench:read'],
    rateLimit: { ...UNLIMITED, sync: { intervalMs: 100 } },
  })

  // DIY peers: a sha256 of the key looked up in a Map (or in Redis), rate-limiter-flexible.
  const digest = (token: string) => createHash('sha256').update(token).digest('base64url')
  const records = new Map([[digest(key), { id: 'diy', ownerId: 'org_bench' }]])
  await redis.set(`diy:${digest(key)}`, JSON.stringify({ id: 'diy', ownerId: 'org_bench' }))
  const memoryLimiter = new RateLimiterMemory(UNLIMITED)
  const redisLimiter = new RateLimiterRedis({ ...UNLIMITED, storeClient: redis, keyPrefix: 'diyrl' })
  const bearer = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7) : '')
  const diyHono: MiddlewareHandler = async (c, next) => {
    const record = records.get(digest(bearer(c.req.header('authorization'))))
    if (record === undefined) return c.text('unauthorized', 401)
    await memoryLimiter.consume(record.id)
    await next()
  }
  const diyHonoRedis: MiddlewareHandler = async (c, next) => {
    const raw = await redis.get(`diy:${digest(bearer(c.req.header('authorization')))}`)
    if (raw === null) return c.text('unauthorized', 401)
    await redisLimiter.consume((JSON.parse(raw) as { id: string }).id)
    await next()
  }
  const pepper = randomBytes(32)
  const hmacFloor: MiddlewareHandler = async (c, next) => {
    createHmac('sha256', pepper)
      .update(c.req.header('authorization') ?? '')
      .digest()
    await next()
  }

  const hono = (variant: string): RequestListener => {
    const app = new Hono()
    const guard = (...handlers: MiddlewareHandler[]) => {
      for (const handler of handlers) app.use('/hello', handler)
    }
    if (variant === 'hono keyward')
      guard(keywardHono.apiKeyAuth(keyward), keywardHono.requireScopes('bench:read'))
    if (variant === 'hono keyward-redis')
      guard(keywardHono.apiKeyAuth(onRedis), keywardHono.requireScopes('bench:read'))
    if (variant === 'hono keyward-local')
      guard(keywardHono.apiKeyAuth(onRedis), keywardHono.requireScopes('bench:read'))
    if (variant === 'hono hmac') guard(hmacFloor)
    if (variant === 'hono diy') guard(diyHono)
    if (variant === 'hono diy-redis') guard(diyHonoRedis)
    if (variant === 'hono bearer-auth') guard(bearerAuth({ token: key }))
    app.get('/hello', (c) => c.json(PAYLOAD))
    return getRequestListener(app.fetch)
  }
  const expressApp = (variant: string): RequestListener => {
    const app = express()
    if (variant === 'express keyward') app.use(keywardExpress.apiKeyAuth(keyward))
    if (variant === 'express peer') {
      app.use(
        rateLimit({
          windowMs: 60_000,
          limit: 1_000_000_000,
          standardHeaders: 'draft-8',
          legacyHeaders: false,
        }),
      )
      app.use((req, res, next) => {
        if (req.get('authorization') === `Bearer ${key}`) next()
        else res.status(401).end()
      })
    }
    app.get('/hello', (_req, res) => {
      res.json(PAYLOAD)
    })
    return app
  }
  const koa = (variant: string): RequestListener => {
    const app = new Koa()
    if (variant === 'koa keyward') app.use(keywardKoa.apiKeyAuth(keyward))
    if (variant === 'koa diy') {
      app.use(async (ctx, next) => {
        const record = records.get(digest(bearer(ctx.get('authorization'))))
        if (record === undefined) {
          ctx.status = 401
          return
        }
        await memoryLimiter.consume(record.id)
        await next()
      })
    }
    app.use((ctx) => {
      if (ctx.path === '/hello') ctx.body = PAYLOAD
    })
    return app.callback()
  }
  const keys: Record<string, string> = {}
  const ports: Record<string, number> = {}
  for (const variant of VARIANTS) {
    const listener =
      variant.framework === 'hono'
        ? hono(variant.name)
        : variant.framework === 'koa'
          ? koa(variant.name)
          : expressApp(variant.name)
    const server = createServer(listener)
    server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    ports[variant.name] = (server.address() as AddressInfo).port
    keys[variant.name] =
      variant.name === 'hono keyward-redis'
        ? strict.key
        : variant.name === 'hono keyward-local'
          ? local.key
          : key
  }
  // The parent asks for this process's CPU time around each run: CPU µs per request is far less
  // sensitive to a busy machine than req/s.
  process.on('message', () => {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicros: user + system })
  })
  process.send?.({ ports, keys })
}

let serverProcess: ChildProcess | undefined

async function serverCpuMicros(): Promise<number> {
  const child = serverProcess as ChildProcess
  return new Promise((resolve) => {
    child.once('message', (message) => resolve((message as { cpuMicros: number }).cpuMicros))
    child.send('cpu')
  })
}

interface Sample {
  requestsPerSecond: number
  /** Server CPU time (user + system) per request, µs. */
  cpuPerRequest: number
}

async function load(port: number, key: string, seconds: number): Promise<Sample> {
  const cpuBefore = await serverCpuMicros()
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hello`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${key}` },
  })
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`port ${port}: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
  }
  const cpuAfter = await serverCpuMicros()
  return {
    requestsPerSecond: result.requests.average,
    cpuPerRequest: (cpuAfter - cpuBefore) / result.requests.total,
  }
}

async function main(): Promise<void> {
  // Load generator and Redis on core 1, servers on core 0: re-run this process pinned, once.
  if (process.env.KEYWARD_BENCH_PINNED === undefined && spawnSync('taskset', ['-V']).status === 0) {
    const pinned = spawnSync(
      'taskset',
      ['-c', '1', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      {
        stdio: 'inherit',
        env: { ...process.env, KEYWARD_BENCH_PINNED: '1' },
      },
    )
    process.exit(pinned.status ?? 1)
  }
  const redis = await startRedisServer()
  const taskset = spawnSync('taskset', ['-V']).status === 0
  const command = [
    process.execPath,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    'serve',
    String(redis.port),
  ]
  const child: ChildProcess = taskset
    ? spawn('taskset', ['-c', '0', ...command], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] })
    : spawn(command[0] as string, command.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] })
  serverProcess = child
  const { ports, keys } = await new Promise<{ ports: Record<string, number>; keys: Record<string, string> }>(
    (resolve, reject) => {
      child.once('message', (message) =>
        resolve(message as { ports: Record<string, number>; keys: Record<string, string> }),
      )
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
    },
  )
  try {
    const selected = VARIANTS.filter((variant) => ONLY === undefined || variant.name.includes(ONLY))
    const run = (variant: Variant, seconds: number) =>
      load(ports[variant.name] as number, keys[variant.name] as string, seconds)
    for (const variant of selected) await run(variant, 1) // warm-up: JIT, caches
    const samples = new Map<string, Sample[]>(selected.map((variant) => [variant.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of selected) samples.get(variant.name)?.push(await run(variant, SECONDS))
    }
    const mean = (name: string, field: keyof Sample) => {
      const list = samples.get(name) ?? []
      return list.reduce((sum, sample) => sum + sample[field], 0) / list.length
    }
    console.log(
      `${ROUNDS} interleaved rounds × ${SECONDS} s per variant, ${CONNECTIONS} connections, autocannon → 127.0.0.1; servers pinned to core 0, autocannon and redis-server to core 1 (${taskset ? 'taskset' : 'not pinned: no taskset'})\n`,
    )
    console.log('| stack | req/s | vs bare (req/s) | server CPU µs per request | vs bare (CPU) |')
    console.log('|---|---:|---:|---:|---:|')
    for (const framework of ['hono', 'koa', 'express'] as const) {
      const bare = `${framework} bare`
      if (!samples.has(bare)) continue
      for (const variant of selected.filter((candidate) => candidate.framework === framework)) {
        const rps = mean(variant.name, 'requestsPerSecond')
        const cpu = mean(variant.name, 'cpuPerRequest')
        console.log(
          `| ${variant.label} | ${Math.round(rps)} | ${(rps / mean(bare, 'requestsPerSecond')).toFixed(2)} | ${cpu.toFixed(1)} | ${(mean(bare, 'cpuPerRequest') / cpu).toFixed(2)} |`,
        )
      }
    }
  } finally {
    child.kill('SIGTERM')
    await redis.dispose()
  }
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]))
else await main()
