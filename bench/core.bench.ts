/**
 * Core verify throughput against its floor: one HMAC-SHA-256 of a key, the one cryptographic
 * operation verify cannot avoid. Cases run interleaved (A B C A B C …) in one process so machine
 * noise hits them alike; the table reports the median of the rounds and the ratio to the floor.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createKeyward } from '@keyward/core'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 400)

interface Case {
  name: string
  run: () => unknown
  async: boolean
}

async function measure(bench: Case): Promise<number> {
  let ops = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ROUND_MS) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 256; i++) {
      if (bench.async) await bench.run()
      else bench.run()
    }
    ops += 256
    now = process.hrtime.bigint()
  }
  return ops / (Number(now - start) / 1e9)
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

const secret = randomBytes(32).toString('base64url')
const pepper = Buffer.from(secret, 'utf8') // as KeyHasher holds it
const plain = createKeyward({ prefix: 'acme', secret })
const limited = createKeyward({
  prefix: 'acme',
  secret,
  rateLimit: { points: 1_000_000_000, duration: 3600 },
})
const { key } = await plain.keys.create({ ownerId: 'org_1', scopes: ['orders:read', 'invoices:*'] })
const { key: limitedKey } = await limited.keys.create({ ownerId: 'org_1', scopes: ['orders:read'] })
const { key: creditKey } = await plain.keys.create({
  ownerId: 'org_1',
  scopes: ['orders:read'],
  credits: { remaining: Number.MAX_SAFE_INTEGER },
})
const badChecksum = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`

// Sanity: every case does what its name says before it is timed.
const checks = [
  (await plain.verify(key, { scopes: 'invoices:read' })).valid,
  (await limited.verify(limitedKey)).valid,
  (await plain.verify(creditKey)).valid,
  !(await plain.verify(badChecksum)).valid,
]
if (checks.includes(false)) throw new Error('bench setup: a case does not behave as named')

const cases: Case[] = [
  {
    name: 'HMAC-SHA-256 of a key (floor)',
    async: false,
    run: () => createHmac('sha256', pepper).update(key).digest(),
  },
  {
    name: 'verify: valid key + scope check',
    async: true,
    run: () => plain.verify(key, { scopes: 'invoices:read' }),
  },
  { name: 'verify: valid key + rate limit (memory)', async: true, run: () => limited.verify(limitedKey) },
  { name: 'verify: valid key + credits', async: true, run: () => plain.verify(creditKey) },
  { name: 'verify: checksum-invalid key (no lookup)', async: true, run: () => plain.verify(badChecksum) },
]

const samples = new Map<string, number[]>(cases.map((bench) => [bench.name, []]))
for (const bench of cases) await measure(bench) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const bench of cases) samples.get(bench.name)?.push(await measure(bench))
}

const floor = median(samples.get(cases[0]!.name)!)
console.log(`${ROUNDS} interleaved rounds × ${ROUND_MS} ms per case; median ops/s; node ${process.version}\n`)
console.log('| case | ops/s | µs/op | time vs HMAC floor |')
console.log('|---|---:|---:|---:|')
for (const bench of cases) {
  const opsPerSecond = median(samples.get(bench.name)!)
  console.log(
    `| ${bench.name} | ${Math.round(opsPerSecond).toLocaleString('en-US')} | ${(1e6 / opsPerSecond).toFixed(2)} | ${(floor / opsPerSecond).toFixed(2)}× |`,
  )
}
await plain.close()
await limited.close()
