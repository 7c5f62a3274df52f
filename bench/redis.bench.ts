/**
 * RedisStore against MemoryStore, in one run on one machine: verify throughput in process, the
 * Redis commands one verified request costs (counted at the client as round trips, and at the
 * server from `INFO commandstats`, which also counts the commands run inside scripts), how fast a
 * revoke reaches another store, usage recording's cost in round trips and how fast its flush
 * writes, and — when `@keyward/hono` and autocannon are installed — the same over real HTTP. It
 * starts its own `redis-server` on a free loopback port.
 */
import { createServer as createHttpServer } from 'node:http'
import { createKeyward, type Keyward, MemoryStore } from '@keyward/core'
import { randomBase62 } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { Redis } from 'ioredis'
import { startRedisServer } from '../test/support/redis-server.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 500)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const COUNTED = 5_000
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5)
const SECRET = 'bench-pepper-0123456789abcdefghijklmnopqrstuvwxyz'
const POLICY = { points: 1_000_000_000, duration: 3600 }

const server = await startRedisServer()
/** Keywards sharing a store closed only at the end (closing a keyward closes its store). */
const toClose: Keyward[] = []
const clients: Redis[] = []
function connect(): Redis {
  const client = new Redis({ host: server.host, port: server.port })
  client.on('error', () => {})
  clients.push(client)
  return client
}

/** Counts every command the client sends (a pipelined batch counts each command). */
function countCommands(client: Redis): () => number {
  let sent = 0
  const send = client.sendCommand.bind(client)
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    sent++
    return send(...args)
  }) as Redis['sendCommand']
  return () => sent
}

async function serverCommands(): Promise<number> {
  const info = await server.cli('info', 'commandstats')
  let calls = 0
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') calls += Number(match[2])
  }
  return calls
}

async function waitSubscribed(store: RedisStore): Promise<void> {
  while (!(store as unknown as { subscribed: boolean }).subscribed)
    await new Promise((r) => setTimeout(r, 10))
}

const memory = createKeyward({ prefix: 'acme', secret: SECRET, store: new MemoryStore(), rateLimit: POLICY })
const redisClient = connect()
const sent = countCommands(redisClient)
const redisStore = new RedisStore({ client: redisClient })
const redis = createKeyward({ prefix: 'acme', secret: SECRET, store: redisStore, rateLimit: POLICY })
await waitSubscribed(redisStore)

const { key: memoryKey } = await memory.keys.create({ ownerId: 'org_bench' })
const { key: redisKey } = await redis.keys.create({ ownerId: 'org_bench' })
const { key: creditKey } = await redis.keys.create({
  ownerId: 'org_bench',
  credits: { remaining: 1_000_000_000_000 },
})
const { key: unlimitedKey } = await createKeyward({
  prefix: 'acme',
  secret: SECRET,
  store: redisStore,
}).keys.create({ ownerId: 'org_bench' })
const bare = createKeyward({ prefix: 'acme', secret: SECRET, store: redisStore })
// An owner's limit and pool beside the key's own limit: still one round trip.
await redis.owners.set('org_shared', { rateLimit: POLICY, credits: { remaining: 1_000_000_000_000 } })
const { key: ownerKey } = await redis.keys.create({ ownerId: 'org_shared', rateLimit: POLICY })
// The same, local-first (reconciled every 100 ms in the background) and without credits: none.
const LOCAL = { ...POLICY, sync: { intervalMs: 100 } }
await redis.owners.set('org_local', { rateLimit: LOCAL })
const { key: localKey } = await redis.keys.create({ ownerId: 'org_local', rateLimit: LOCAL })

interface Case {
  name: string
  keyward: Keyward
  key: string
  /** Runs on the client whose commands are counted. */
  counted?: boolean
}
const memoryBare = createKeyward({ prefix: 'acme', secret: SECRET, store: new MemoryStore() })
const { key: memoryBareKey } = await memoryBare.keys.create({ ownerId: 'org_bench' })

const cases: Case[] = [
  { name: 'MemoryStore: verify (no limit, no credits)', keyward: memoryBare, key: memoryBareKey },
  { name: 'RedisStore: verify (no limit, no credits)', keyward: bare, key: unlimitedKey, counted: true },
  { name: 'MemoryStore: verify + rate limit', keyward: memory, key: memoryKey },
  { name: 'RedisStore: verify + rate limit', keyward: redis, key: redisKey, counted: true },
  { name: 'RedisStore: verify + rate limit + credits', keyward: redis, key: creditKey, counted: true },
  {
    name: 'RedisStore: verify + key limit + owner limit + owner credits',
    keyward: redis,
    key: ownerKey,
    counted: true,
  },
  {
    name: 'RedisStore: verify + local-first key limit + local-first owner limit',
    keyward: redis,
    key: localKey,
    counted: true,
  },
]
for (const { name, keyward, key } of cases) {
  const result = await keyward.verify(key)
  if (!result.valid) throw new Error(`bench setup: ${name} does not verify (${result.code})`)
}

/** Verifications per second with CONCURRENCY requests in flight, for ROUND_MS. */
async function throughput({ keyward, key }: Case): Promise<number> {
  let done = 0
  const deadline = performance.now() + ROUND_MS
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await keyward.verify(key)
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
const format = (value: number) => Math.round(value).toLocaleString('en-US')

// 1. Commands per verified request, after warm-up (cache filled, scripts loaded).
const costRows: string[] = []
for (const entry of cases.filter((candidate) => candidate.counted)) {
  for (let index = 0; index < 200; index++) await entry.keyward.verify(entry.key)
  const clientBefore = sent()
  const serverBefore = await serverCommands()
  for (let index = 0; index < COUNTED; index++) {
    const result = await entry.keyward.verify(entry.key)
    if (!result.valid) throw new Error(`${entry.name}: ${result.code}`)
  }
  const roundTrips = (sent() - clientBefore) / COUNTED
  const serverSide = ((await serverCommands()) - serverBefore) / COUNTED
  costRows.push(`| ${entry.name} | ${roundTrips.toFixed(2)} | ${serverSide.toFixed(2)} |`)
}

// 2. Throughput, interleaved rounds so machine noise hits every case alike.
const samples = new Map<string, number[]>(cases.map((entry) => [entry.name, []]))
for (const entry of cases) await throughput(entry)
for (let round = 0; round < ROUNDS; round++) {
  for (const entry of cases) samples.get(entry.name)?.push(await throughput(entry))
}
const memoryRate = median(samples.get('MemoryStore: verify + rate limit') ?? [])

// 3. Propagation: a revoke through one store, seen by another (own connections, own cache).
const otherClient = connect()
const otherStore = new RedisStore({ client: otherClient })
const other = createKeyward({ prefix: 'acme', secret: SECRET, store: otherStore })
await waitSubscribed(otherStore)
const latencies: number[] = []
for (let trial = 0; trial < 20; trial++) {
  const { key, record } = await redis.keys.create({ ownerId: 'org_propagation' })
  if (!(await other.verify(key)).valid) throw new Error('propagation setup failed')
  const started = performance.now()
  await redis.keys.revoke(record.id)
  while ((await other.verify(key)).valid) await new Promise((resolve) => setImmediate(resolve))
  latencies.push(performance.now() - started)
}

console.log(
  `redis-server ${(await server.cli('info', 'server')).match(/redis_version:(\S+)/)?.[1]} on loopback`,
)
console.log(`\n### Redis commands per verified request (${COUNTED} verifies after warm-up)\n`)
console.log('| case | client commands (round trips) | server commands incl. inside scripts |')
console.log('|---|---:|---:|')
for (const row of costRows) console.log(row)
console.log(`\n### verify throughput, ${CONCURRENCY} in flight (median of ${ROUNDS} × ${ROUND_MS} ms)\n`)
console.log('| case | verifies/s | vs MemoryStore + rate limit |')
console.log('|---|---:|---:|')
for (const entry of cases) {
  const rate = median(samples.get(entry.name) ?? [])
  console.log(`| ${entry.name} | ${format(rate)} | ${(rate / memoryRate).toFixed(2)}× |`)
}
console.log(`\n### revocation reaching another RedisStore (${latencies.length} trials)\n`)
console.log(
  `median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (the same pub/sub path as across processes)`,
)

await usageSection()
await httpSection()

await Promise.all([
  memory.close(),
  memoryBare.close(),
  redis.close(),
  other.close(),
  ...toClose.map((k) => k.close()),
])
for (const client of clients) client.disconnect()
await server.dispose()

// ——— Usage: round trips with recording on and off, the flush's own commands, flush throughput ———

async function usageSection(): Promise<void> {
  // On the counted client; the timer is pushed out of the way so the count is what verify waits for.
  const on = createKeyward({
    prefix: 'acme',
    secret: SECRET,
    store: redisStore,
    rateLimit: POLICY,
    usage: { flushIntervalMs: 3_600_000 },
  })
  const off = createKeyward({
    prefix: 'acme',
    secret: SECRET,
    store: redisStore,
    rateLimit: POLICY,
    usage: false,
  })
  const rows: string[] = []
  for (const [name, keyward] of [
    ['verify + rate limit, usage recording on', on],
    ['verify + rate limit, usage: false', off],
  ] as const) {
    const { key } = await keyward.keys.create({ ownerId: 'org_usage_bench' })
    for (let index = 0; index < 200; index++) await keyward.verify(key)
    const before = sent()
    for (let index = 0; index < COUNTED; index++) await keyward.verify(key)
    rows.push(`| ${name} | ${((sent() - before) / COUNTED).toFixed(2)} |`)
  }
  const beforeFlush = sent()
  await on.usage.flush()
  const flushCommands = sent() - beforeFlush

  // Flush throughput: DISTINCT keys (of 100 owners), one verification each, written by one flush.
  const DISTINCT = Number(process.env.BENCH_USAGE_KEYS ?? 20_000)
  const flushStore = new RedisStore({ client: connect(), commandTimeoutMs: 10_000 })
  const flusher = createKeyward({
    prefix: 'acme',
    secret: SECRET,
    store: flushStore,
    usage: { flushIntervalMs: 3_600_000, maxPending: 1_000_000 },
  })
  const timings: number[] = []
  for (let trial = 0; trial < 3; trial++) {
    for (let index = 0; index < DISTINCT; index++) {
      const code = index % 10 === 0 ? 'RATE_LIMITED' : 'VALID'
      flusher.recordVerification(code, randomBase62(12), `org_${index % 100}`, 1)
    }
    const started = performance.now()
    await flusher.usage.flush()
    timings.push(performance.now() - started)
  }
  const flushMs = median(timings)

  console.log(`\n### Usage recording (${COUNTED} verifies after warm-up, counted at the client)\n`)
  console.log('| case | Redis commands per verify (blocking round trips) |')
  console.log('|---|---:|')
  for (const row of rows) console.log(row)
  console.log(
    `\nThe flush of those ${COUNTED + 200} verifications (one key) sent ${flushCommands} commands in the background: ` +
      `${(flushCommands / (COUNTED + 200)).toFixed(4)} per verification, none of them awaited by a request.`,
  )
  console.log(
    `\nFlush throughput: ${DISTINCT.toLocaleString('en-US')} distinct keys (100 owners, one verification each) in one flush, ` +
      `batches of 1000: median of 3 trials ${flushMs.toFixed(0)} ms = ${format(DISTINCT / (flushMs / 1000))} keys/s`,
  )
  // `on` and `off` share the bench's store, which closing them would close: they go at the end.
  toClose.push(on, off)
  await flusher.close()
}

// ——— HTTP: Hono + keyward on memory vs Redis, when the Hono adapter and autocannon exist ———

interface HonoApp {
  use(path: string, handler: unknown): void
  get(path: string, handler: (c: { text(body: string): Response }) => Response): void
  fetch(request: Request): Response | Promise<Response>
}
interface AutocannonResult {
  requests: { average: number }
  latency: { p99: number }
  non2xx: number
  errors: number
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>

async function optional<T>(specifier: string): Promise<T | null> {
  try {
    return (await import(specifier)) as T
  } catch {
    return null
  }
}

async function httpSection(): Promise<void> {
  const honoAdapter = await optional<{ apiKeyAuth: (keyward: Keyward) => unknown }>('@keyward/hono')
  const hono = await optional<{ Hono: new () => HonoApp }>('hono')
  const nodeServer = await optional<{
    getRequestListener: (fetch: HonoApp['fetch']) => Parameters<typeof createHttpServer>[1]
  }>('@hono/node-server')
  const cannon = await optional<{ default: Autocannon }>('autocannon')
  if (honoAdapter === null || hono === null || nodeServer === null || cannon === null) {
    console.log(
      '\n(HTTP section skipped: @keyward/hono, hono, @hono/node-server or autocannon is not installed)',
    )
    return
  }
  const apps: { name: string; keyward: Keyward | null; key: string }[] = [
    { name: 'Hono, no auth (floor)', keyward: null, key: memoryKey },
    { name: 'Hono + keyward, MemoryStore', keyward: memory, key: memoryKey },
    { name: 'Hono + keyward, RedisStore', keyward: redis, key: redisKey },
  ]
  const rows: string[] = []
  let floor = 0
  for (const { name, keyward, key } of apps) {
    const app = new hono.Hono()
    if (keyward !== null) app.use('/v1/*', honoAdapter.apiKeyAuth(keyward))
    app.get('/v1/ping', (c) => c.text('ok'))
    const http = createHttpServer(nodeServer.getRequestListener(app.fetch.bind(app)))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const address = http.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    const result = await cannon.default({
      url: `http://127.0.0.1:${port}/v1/ping`,
      connections: 32,
      duration: HTTP_SECONDS,
      headers: { authorization: `Bearer ${key}` },
    })
    await new Promise((resolve) => http.close(resolve))
    if (floor === 0) floor = result.requests.average
    rows.push(
      `| ${name} | ${format(result.requests.average)} | ${result.latency.p99} | ${(result.requests.average / floor).toFixed(2)}× | ${result.non2xx + result.errors} |`,
    )
  }
  console.log(`\n### HTTP: GET /v1/ping over loopback, autocannon 32 connections × ${HTTP_SECONDS} s\n`)
  console.log('| app | req/s | p99 ms | vs bare Hono | non-2xx + errors |')
  console.log('|---|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}
