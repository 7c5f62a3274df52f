/**
 * HTTP overhead per framework, beside peer stacks, in one run: throughput and server CPU per
 * request of a bare route vs the same route behind keyward and behind do-it-yourself peers. Each
 * variant is served by its own child process pinned to core 0; autocannon (and redis-server) run
 * on core 1. Variants are interleaved (every variant once per round) so drift hits them alike;
 * ratios are taken per round against the bare route of the same framework, and the table gives
 * their median and range over the rounds.
 *
 *   pnpm bench http        BENCH_SECONDS=3 BENCH_ROUNDS=5 BENCH_CONNECTIONS=50 BENCH_ONLY=hono
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process'
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

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
/** e.g. `hono` or `hono bare,redis`: only the variants whose name contains one of these. */
const ONLY = process.env.BENCH_ONLY?.split(',')
const PAYLOAD = { hello: 'world' }
const UNLIMITED = { points: 1_000_000_000, duration: 60 }

/**
 * In a child: builds one variant on its own port and reports the port and the key. Each variant has
 * a server process of its own, as an application runs one stack: sharing one process would let
 * the other variants' code (another store, another framework) make the JIT's call sites
 * polymorphic and their timers and garbage run during this variant's load.
 */
async function serve(redisPort: number, variant: string): Promise<void> {
  const secret = randomBytes(32).toString('base64url')
  const onRedis = variant.includes('redis') || variant.includes('local')
  const redis = onRedis ? new Redis({ port: redisPort, host: '127.0.0.1' }) : undefined
  // Each process its own key prefix, so the Redis variants do not share records or counters.
  const store =
    redis === undefined ? undefined : new RedisStore({ client: redis, keyPrefix: `bench${process.pid}:` })
  const keyward =
    store === undefined
      ? createKeyward({ prefix: 'bench', secret, rateLimit: UNLIMITED })
      : createKeyward({ prefix: 'bench', secret, store })
  // On Redis: strict = limit + credits (one round trip), local-first = limit only (none).
  const { key } = await keyward.keys.create({
    ownerId: 'org_bench',
    scopes: ['bench:read'],
    ...(variant === 'hono keyward-redis'
      ? { rateLimit: UNLIMITED, credits: { remaining: 1_000_000_000_000 } }
      : {}),
    ...(variant === 'hono keyward-local' ? { rateLimit: { ...UNLIMITED, sync: { intervalMs: 100 } } } : {}),
  })

  // DIY peers: a sha256 of the key looked up in a Map (or in Redis), rate-limiter-flexible.
  const digest = (token: string) => createHash('sha256').update(token).digest('base64url')
  const records = new Map([[digest(key), { id: 'diy', ownerId: 'org_bench' }]])
  const bearer = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7) : '')
  const memoryLimiter = new RateLimiterMemory(UNLIMITED)
  const diyHono: MiddlewareHandler = async (c, next) => {
    const record = records.get(digest(bearer(c.req.header('authorization'))))
    if (record === undefined) return c.text('unauthorized', 401)
    await memoryLimiter.consume(record.id)
    await next()
  }
  const diyHonoRedis = async (): Promise<MiddlewareHandler> => {
    const client = redis as Redis
    const redisLimiter = new RateLimiterRedis({
      ...UNLIMITED,
      storeClient: client,
      keyPrefix: `diyrl${process.pid}`,
    })
    await client.set(`diy${process.pid}:${digest(key)}`, JSON.stringify({ id: 'diy', ownerId: 'org_bench' }))
    return async (c, next) => {
      const raw = await client.get(`diy${process.pid}:${digest(bearer(c.req.header('authorization')))}`)
      if (raw === null) return c.text('unauthorized', 401)
      await redisLimiter.consume((JSON.parse(raw) as { id: string }).id)
      await next()
    }
  }
  const pepper = randomBytes(32)
  const hmacFloor: MiddlewareHandler = async (c, next) => {
    createHmac('sha256', pepper)
      .update(c.req.header('authorization') ?? '')
      .digest()
    await next()
  }

  const hono = async (): Promise<RequestListener> => {
    const app = new Hono()
    const guard = (...handlers: MiddlewareHandler[]) => {
      for (const handler of handlers) app.use('/hello', handler)
    }
    if (variant === 'hono keyward' || variant === 'hono keyward-redis' || variant === 'hono keyward-local')
      guard(keywardHono.apiKeyAuth(keyward), keywardHono.requireScopes('bench:read'))
    if (variant === 'hono hmac') guard(hmacFloor)
    if (variant === 'hono diy') guard(diyHono)
    if (variant === 'hono diy-redis') guard(await diyHonoRedis())
    if (variant === 'hono bearer-auth') guard(bearerAuth({ token: key }))
    app.get('/hello', (c) => c.json(PAYLOAD))
    return getRequestListener(app.fetch)
  }
  const expressApp = (): RequestListener => {
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
  const koa = (): RequestListener => {
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
  const listener = variant.startsWith('hono')
    ? await hono()
    : variant.startsWith('koa')
      ? koa()
      : expressApp()
  const server = createServer(listener)
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // The parent asks for this process's CPU time around each run: CPU µs per request is far less
  // sensitive to a busy machine than req/s.
  process.on('message', () => {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicros: user + system })
  })
  process.send?.({ port: (server.address() as AddressInfo).port, key })
}

interface Server {
  child: ChildProcess
  port: number
  key: string
}

async function serverCpuMicros(child: ChildProcess): Promise<number> {
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

async function load(server: Server, seconds: number): Promise<Sample> {
  const cpuBefore = await serverCpuMicros(server.child)
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/hello`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${server.key}` },
  })
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`port ${server.port}: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
  }
  const cpuAfter = await serverCpuMicros(server.child)
  return {
    requestsPerSecond: result.requests.average,
    cpuPerRequest: (cpuAfter - cpuBefore) / result.requests.total,
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

async function startServer(redisPort: number, variant: Variant, taskset: boolean): Promise<Server> {
  const command = [
    process.execPath,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    'serve',
    String(redisPort),
    variant.name,
  ]
  const options: SpawnOptions = { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] }
  const child: ChildProcess = taskset
    ? spawn('taskset', ['-c', '0', ...command], options)
    : spawn(command[0] as string, command.slice(1), options)
  const { port, key } = await new Promise<{ port: number; key: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number; key: string }))
    child.once('exit', (code) => reject(new Error(`bench server for ${variant.name} exited with ${code}`)))
  })
  return { child, port, key }
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
  const selected = VARIANTS.filter(
    (variant) => ONLY === undefined || ONLY.some((part) => variant.name.includes(part)),
  )
  const servers = new Map<string, Server>()
  try {
    for (const variant of selected) servers.set(variant.name, await startServer(redis.port, variant, taskset))
    const run = (variant: Variant, seconds: number) => load(servers.get(variant.name) as Server, seconds)
    for (const variant of selected) await run(variant, 1) // warm-up: JIT, caches
    const samples = new Map<string, Sample[]>(selected.map((variant) => [variant.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of selected) samples.get(variant.name)?.push(await run(variant, SECONDS))
    }
    const list = (name: string) => samples.get(name) ?? []
    /** Per round: the variant against its framework's bare route of the same round. */
    const ratios = (name: string, bare: string, field: keyof Sample) =>
      list(name).map((sample, round) => {
        const base = list(bare)[round] as Sample
        return field === 'requestsPerSecond' ? sample[field] / base[field] : base[field] / sample[field]
      })
    const spread = (values: readonly number[]) =>
      `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
    console.log(
      `${ROUNDS} interleaved rounds × ${SECONDS} s per variant, ${CONNECTIONS} connections, autocannon → 127.0.0.1; one server process per variant pinned to core 0, autocannon and redis-server on core 1 (${taskset ? 'taskset' : 'not pinned: no taskset'}). Medians over the rounds; ratios are per round against the bare route of the same round (median, then the rounds' range).\n`,
    )
    console.log('| stack | req/s | vs bare (req/s) | server CPU µs per request | vs bare (CPU) |')
    console.log('|---|---:|---:|---:|---:|')
    for (const framework of ['hono', 'koa', 'express'] as const) {
      const bare = `${framework} bare`
      if (!samples.has(bare)) continue
      for (const variant of selected.filter((candidate) => candidate.framework === framework)) {
        const rps = median(list(variant.name).map((sample) => sample.requestsPerSecond))
        const cpu = median(list(variant.name).map((sample) => sample.cpuPerRequest))
        console.log(
          `| ${variant.label} | ${Math.round(rps)} | ${spread(ratios(variant.name, bare, 'requestsPerSecond'))} | ${cpu.toFixed(1)} | ${spread(ratios(variant.name, bare, 'cpuPerRequest'))} |`,
        )
      }
    }
  } finally {
    for (const server of servers.values()) server.child.kill('SIGTERM')
    await redis.dispose()
  }
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]), process.argv[4] as string)
else await main()
