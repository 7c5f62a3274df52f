/**
 * HTTP overhead per framework: throughput of a bare route vs the same route behind `apiKeyAuth`
 * (MemoryStore, a valid key, a rate limit too generous to reject), for Express, Hono and Koa, plus
 * a peer row: Express with express-rate-limit and a hand-rolled header check. The servers run in a
 * child process (one core), autocannon drives them from this one (the other core); runs are
 * interleaved (bare, keyward, … per round) so drift hits every variant alike.
 *
 *   NODE_OPTIONS=--conditions=@keyward/source node --import tsx bench/http.bench.ts   (or `pnpm bench http`)
 *   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32 to tune.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { getRequestListener } from '@hono/node-server'
import { createKeyward } from '@keyward/core'
import { apiKeyAuth as expressAuth } from '@keyward/express'
import { apiKeyAuth as honoAuth } from '@keyward/hono'
import { apiKeyAuth as koaAuth } from '@keyward/koa'
import autocannon from 'autocannon'
import express from 'express'
import { rateLimit } from 'express-rate-limit'
import { Hono, type MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import Koa from 'koa'

const VARIANTS = [
  'hono bare',
  'hono keyward',
  'hono hmac',
  'hono bearer-auth',
  'express bare',
  'express keyward',
  'express peer',
  'koa bare',
  'koa keyward',
] as const
type Variant = (typeof VARIANTS)[number]

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const ONLY = process.env.BENCH_ONLY // e.g. `hono`: run only the variants whose name contains it
const PAYLOAD = { hello: 'world' }

/** In the child: builds every variant on its own port and reports the ports and the key. */
async function serve(): Promise<void> {
  const keyward = createKeyward({ prefix: 'bench', rateLimit: { points: 1_000_000_000, duration: 60 } })
  const { key } = await keyward.keys.create({ ownerId: 'org_bench', scopes: ['bench:read'] })
  const expected = `Bearer ${key}`

  // The floor: one HMAC-SHA-256 of the presented key, the work verify cannot skip, and nothing else.
  const pepper = randomBytes(32)
  const hmacFloor: MiddlewareHandler = async (c, next) => {
    createHmac('sha256', pepper)
      .update(c.req.header('authorization') ?? '')
      .digest()
    await next()
  }
  const hono = (mode: 'bare' | 'keyward' | 'hmac' | 'bearer-auth'): RequestListener => {
    const app = new Hono()
    if (mode === 'keyward') app.use('/hello', honoAuth(keyward))
    if (mode === 'hmac') app.use('/hello', hmacFloor)
    // Peer: Hono's own bearer-auth with one static token (no store, no limits, no key records).
    if (mode === 'bearer-auth') app.use('/hello', bearerAuth({ token: key }))
    app.get('/hello', (c) => c.json(PAYLOAD))
    return getRequestListener(app.fetch)
  }
  const expressApp = (mode: 'bare' | 'keyward' | 'peer'): RequestListener => {
    const app = express()
    if (mode === 'keyward') app.use(expressAuth(keyward))
    if (mode === 'peer') {
      app.use(
        rateLimit({
          windowMs: 60_000,
          limit: 1_000_000_000,
          standardHeaders: 'draft-8',
          legacyHeaders: false,
        }),
      )
      app.use((req, res, next) => {
        if (req.get('authorization') === expected) next()
        else res.status(401).end()
      })
    }
    app.get('/hello', (_req, res) => {
      res.json(PAYLOAD)
    })
    return app
  }
  const koa = (guarded: boolean): RequestListener => {
    const app = new Koa()
    if (guarded) app.use(koaAuth(keyward))
    app.use((ctx) => {
      if (ctx.path === '/hello') ctx.body = PAYLOAD
    })
    return app.callback()
  }
  const listeners: Record<Variant, RequestListener> = {
    'hono bare': hono('bare'),
    'hono keyward': hono('keyward'),
    'hono hmac': hono('hmac'),
    'hono bearer-auth': hono('bearer-auth'),
    'express bare': expressApp('bare'),
    'express keyward': expressApp('keyward'),
    'express peer': expressApp('peer'),
    'koa bare': koa(false),
    'koa keyward': koa(true),
  }
  const ports: Partial<Record<Variant, number>> = {}
  for (const variant of VARIANTS) {
    const server = createServer(listeners[variant])
    server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    ports[variant] = (server.address() as AddressInfo).port
  }
  // The parent asks for this process's CPU time around each run: CPU µs per request is far less
  // sensitive to a busy machine than req/s.
  process.on('message', () => {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicros: user + system })
  })
  process.send?.({ ports, key })
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
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  })
  serverProcess = child
  const { ports, key } = await new Promise<{ ports: Record<Variant, number>; key: string }>(
    (resolve, reject) => {
      child.once('message', (message) => resolve(message as { ports: Record<Variant, number>; key: string }))
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
    },
  )
  try {
    const selected = VARIANTS.filter((variant) => ONLY === undefined || variant.includes(ONLY))
    for (const variant of selected) await load(ports[variant], key, 1) // warm-up: JIT, caches
    const samples = new Map<Variant, Sample[]>(VARIANTS.map((variant) => [variant, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of selected) samples.get(variant)?.push(await load(ports[variant], key, SECONDS))
    }
    const mean = (variant: Variant, field: keyof Sample) => {
      const list = samples.get(variant) ?? []
      return list.reduce((sum, sample) => sum + sample[field], 0) / list.length
    }
    const spread = (variant: Variant) => {
      const list = (samples.get(variant) ?? []).map((sample) => sample.requestsPerSecond)
      return `${Math.round(Math.min(...list))}–${Math.round(Math.max(...list))}`
    }
    const row = (label: string, bare: Variant, guarded: Variant) => {
      const bareRps = mean(bare, 'requestsPerSecond')
      const guardedRps = mean(guarded, 'requestsPerSecond')
      const bareCpu = mean(bare, 'cpuPerRequest')
      const guardedCpu = mean(guarded, 'cpuPerRequest')
      console.log(
        `| ${label} | ${Math.round(bareRps)} (${spread(bare)}) | ${Math.round(guardedRps)} (${spread(guarded)}) | ${((guardedRps / bareRps) * 100).toFixed(1)} % | ${bareCpu.toFixed(1)} → ${guardedCpu.toFixed(1)} | ${((bareCpu / guardedCpu) * 100).toFixed(1)} % |`,
      )
    }
    console.log(
      `${ROUNDS} interleaved rounds × ${SECONDS} s per variant, ${CONNECTIONS} connections, autocannon → 127.0.0.1\n`,
    )
    console.log(
      '| framework | bare req/s (min–max) | guarded req/s (min–max) | req/s ratio | server CPU µs/request | CPU ratio (bare/guarded) |',
    )
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const framework of ['hono', 'express', 'koa'] as const) {
      if (ONLY !== undefined && !framework.includes(ONLY)) continue
      row(`${framework} + keyward`, `${framework} bare`, `${framework} keyward`)
    }
    if (ONLY === undefined || 'hono'.includes(ONLY)) {
      row('hono + one HMAC-SHA-256 per request (floor)', 'hono bare', 'hono hmac')
      row('hono + hono/bearer-auth, one static token (peer)', 'hono bare', 'hono bearer-auth')
    }
    if (ONLY === undefined || 'express'.includes(ONLY)) {
      row('express + express-rate-limit + header check (peer)', 'express bare', 'express peer')
    }
  } finally {
    child.kill('SIGTERM')
  }
}

if (process.argv[2] === 'serve') await serve()
else await main()
