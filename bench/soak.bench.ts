/**
 * Soak (`pnpm bench soak`; not part of `pnpm bench` or CI): what a flood does to one process's
 * memory on RedisStore, with the caps configured. Phase 1 sends 1,000,000 requests from 1,000,000
 * distinct client addresses (half IPv4, half IPv6 in distinct /64s), each with a well-formed key
 * whose id does not exist, through the authenticator every `apiKeyAuth` runs: each one is a failed
 * attempt for the brute-force guard and an unknown id for the record cache. Phase 2 verifies
 * 1,000,000 more made-up ids directly. Every `CHECK_EVERY` requests a valid key must still verify
 * (through the authenticator, from an address of its own); every `REPORT_EVERY` the process's RSS
 * and heap (after a forced GC) and the bounded structures' sizes are printed — usage recording's
 * pending buffer too (it is on, as by default). The run fails when a check fails or a structure
 * passes its cap. At the end it prints what Redis holds. It starts its own redis-server on loopback.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createKeyward } from '@keyward/core'
import { createAuthenticator, type HttpRequestView } from '@keyward/core/adapter'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { Redis } from 'ioredis'
import { startRedisServer } from '../test/support/redis-server.ts'

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 1_000_000)
/** `SOAK_USAGE=off` runs with usage recording off, to tell its share of Redis apart. */
const USAGE = process.env.SOAK_USAGE !== 'off'
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 64)
const CHECK_EVERY = 10_000
const REPORT_EVERY = 100_000
const SECRET = 'soak-pepper-0123456789abcdefghijklmnopqrstuvwxyz'
const CAPS = { maxAddresses: 100_000, cacheSize: 10_000, negativeCacheSize: 10_000, maxPending: 100_000 }

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const mib = (bytes: number) => (bytes / 1048576).toFixed(1)

const server = await startRedisServer()
const client = new Redis({ host: server.host, port: server.port })
client.on('error', () => {})
const store = new RedisStore({
  client,
  keyPrefix: 'soak:',
  cacheSize: CAPS.cacheSize,
  negativeCacheSize: CAPS.negativeCacheSize,
})
const keyward = createKeyward({
  prefix: 'soak',
  secret: SECRET,
  store,
  bruteForce: { points: 20, duration: 60, blockDuration: 300, maxAddresses: CAPS.maxAddresses },
  usage: USAGE ? { maxPending: CAPS.maxPending } : false,
})
const authenticator = createAuthenticator(keyward)
while (!(store as unknown as { subscribed: boolean }).subscribed) await new Promise((r) => setTimeout(r, 10))
const { key: validKey } = await keyward.keys.create({ ownerId: 'org_soak', scopes: ['orders:read'] })

/** The record cache's two maps, read for the report (private: a bench may look). */
const cache = (store as unknown as { records: { cache: { size: number; missingSize: number } } }).records
  .cache

const view = (token: string, clientAddress: string): HttpRequestView => ({
  getHeader: (name) => (name === 'x-api-key' ? token : undefined),
  getQuery: () => undefined,
  clientAddress,
})
const madeUpKey = () => formatKey('soak', 'live', randomBase62(12), randomBase62(32))
/** The `index`th distinct client: IPv4 from 10.0.0.0/8 on even, an IPv6 /64 of its own on odd. */
function clientAddress(index: number): string {
  const n = index >>> 1
  if (index % 2 === 0) return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
  return `2001:db8:${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}::1`
}

let checkFailures = 0
let capOverruns = 0
let checks = 0
const rows: string[] = []
const started = Date.now()

async function checkValidKey(phase: string, done: number): Promise<void> {
  const outcome = await authenticator.authenticate(view(validKey, '192.0.2.1'))
  checks++
  if (!outcome.ok) {
    checkFailures++
    console.error(`${phase} ${done}: the valid key answered ${outcome.result.code}`)
  }
}

function report(phase: string, done: number): void {
  gc()
  const { rss, heapUsed } = process.memoryUsage()
  const pending = keyward.usage.stats().pending
  const over =
    keyward.guard.size > CAPS.maxAddresses ||
    cache.size > CAPS.cacheSize ||
    cache.missingSize > CAPS.negativeCacheSize ||
    pending > CAPS.maxPending
  if (over) capOverruns++
  rows.push(
    `| ${phase} | ${done.toLocaleString('en-US')} | ${mib(rss)} | ${mib(heapUsed)} | ${keyward.guard.size.toLocaleString('en-US')} | ${cache.size} | ${cache.missingSize.toLocaleString('en-US')} | ${pending.toLocaleString('en-US')} | ${Math.round((Date.now() - started) / 1000)} |${over ? ' **over a cap**' : ''}`,
  )
  console.error(rows.at(-1))
}

/** Runs `count` requests, CONCURRENCY at a time, checking and reporting as it goes. */
async function phase(name: string, count: number, request: (index: number) => Promise<unknown>) {
  let next = 0
  let done = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      await request(index)
      const count = ++done
      if (count % CHECK_EVERY === 0) await checkValidKey(name, count)
      if (count % REPORT_EVERY === 0) report(name, count)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  if (done % REPORT_EVERY !== 0) report(name, done)
}

await checkValidKey('start', 0)
report('start', 0)
/** What the made-up keys were answered: NOT_FOUND, or UNAVAILABLE when Redis was too slow. */
const answers = new Map<string, number>()
const tallyAnswer = (code: string) => answers.set(code, (answers.get(code) ?? 0) + 1)
await phase('1: distinct addresses', REQUESTS, async (index) => {
  const outcome = await authenticator.authenticate(view(madeUpKey(), clientAddress(index)))
  tallyAnswer(outcome.ok ? 'VALID' : outcome.result.code)
})
await phase('2: made-up ids', REQUESTS, async () => {
  const result = await keyward.verify(madeUpKey())
  tallyAnswer(result.valid ? 'VALID' : result.code)
})
await keyward.usage.flush().catch(() => {})

console.log(
  `${(2 * REQUESTS).toLocaleString('en-US')} requests, ${CONCURRENCY} in flight, RedisStore on loopback; caps: bruteForce.maxAddresses ${CAPS.maxAddresses.toLocaleString('en-US')}, cacheSize ${CAPS.cacheSize.toLocaleString('en-US')}, negativeCacheSize ${CAPS.negativeCacheSize.toLocaleString('en-US')}, usage.maxPending ${CAPS.maxPending.toLocaleString('en-US')}${USAGE ? '' : ' (usage recording off)'}\n`,
)
console.log(
  '| phase | requests | RSS MiB | heap used MiB (after GC) | guard networks | cached records | cached unknown ids | usage pending | s |',
)
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const row of rows) console.log(row)
const answered = [...answers].map(([code, count]) => `${code} ${count.toLocaleString('en-US')}`).join(', ')
console.log(
  `\nThe made-up keys were answered ${answered}; the valid key was checked ${checks} times: ${checks - checkFailures} verified, ${checkFailures} did not; ${capOverruns} report(s) over a cap.`,
)
const keys = Number((await server.cli('dbsize')).trim())
const guardKeys = Number(
  (await server.cli('eval', "return #redis.call('KEYS', ARGV[1])", '0', 'soak:guard:*')).trim(),
)
const usedMemory = Number(/used_memory:(\d+)/.exec(await server.cli('info', 'memory'))?.[1] ?? 0)
console.log(
  `Redis afterwards: ${keys.toLocaleString('en-US')} keys (${guardKeys} of the guard), used_memory ${mib(usedMemory)} MiB.`,
)
await keyward.close()
client.disconnect()
await server.dispose()
process.exit(checkFailures === 0 && capOverruns === 0 && !answers.has('VALID') ? 0 : 1)
