/**
 * Core verify throughput against its floor: one HMAC-SHA-256 of a key, the one cryptographic
 * operation verify cannot avoid. Cases run interleaved (A B C A B C …) in one process so machine
 * noise hits them alike; the table reports the median of the rounds and the ratio to the floor.
 * A second table prices two per-request checks by same-run pairs: the brute-force guard (the
 * authenticator with and without it) and a key's `allowedNetworks` (verify with and without).
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createKeyward } from '@keyward/core'
import { createAuthenticator, type HttpRequestView } from '@keyward/core/adapter'
// The allowlist itself is internal to verify; timed alone too, to see past the pairs' noise.
import { NetworkAllowlist, parseCidr } from '../packages/core/src/networks.ts'

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
const { key: networkKey } = await plain.keys.create({
  ownerId: 'org_1',
  scopes: ['orders:read'],
  allowedNetworks: ['203.0.113.0/24', '2001:db8::/32'],
})

// The authenticator as every apiKeyAuth runs it, with the keyward's guard and opted out of it.
const guarded = createKeyward({ prefix: 'acme', secret })
const { key: guardedKey } = await guarded.keys.create({ ownerId: 'org_1', scopes: ['orders:read'] })
const withGuard = createAuthenticator(guarded)
const withoutGuard = createAuthenticator(guarded, { bruteForce: false })
// Another keyward whose guard is busy: one network is failing, so every request parses its address.
const busy = createKeyward({ prefix: 'acme', secret })
const { key: busyKey } = await busy.keys.create({ ownerId: 'org_1', scopes: ['orders:read'] })
const busyGuard = createAuthenticator(busy)
const request = (token: string, clientAddress: string): HttpRequestView => ({
  getHeader: (name) => (name === 'x-api-key' ? token : undefined),
  getQuery: () => undefined,
  clientAddress,
})
const cleanRequest = request(guardedKey, '203.0.113.10')
const busyRequest = request(busyKey, '203.0.113.10')
await busyGuard.authenticate(request(badChecksum, '198.51.100.1'))
const v4 = { clientAddress: '203.0.113.10' }
const v6 = { clientAddress: '2001:db8::10' }
const guardedId = guardedKey.split('_')[2] as string
const allowlist = () =>
  new NetworkAllowlist(['203.0.113.0/24', '2001:db8::/32'].map((cidr) => parseCidr(cidr)!))
const repeatAllowlist = allowlist()
const rotateAllowlist = allowlist()
// 1,000 client addresses in turn: more than the allowlist remembers, so every check parses.
const rotating = Array.from({ length: 1000 }, (_, index) =>
  index % 2 === 0 ? `203.0.113.${index % 250}` : `2001:db8:0:${index.toString(16)}::1`,
)
let turn = 0

// Sanity: every case does what its name says before it is timed.
const checks = [
  (await plain.verify(key, { scopes: 'invoices:read' })).valid,
  (await limited.verify(limitedKey)).valid,
  (await plain.verify(creditKey)).valid,
  !(await plain.verify(badChecksum)).valid,
  (await plain.verify(networkKey, v4)).valid,
  (await plain.verify(networkKey, v6)).valid,
  !(await plain.verify(networkKey, { clientAddress: '198.51.100.9' })).valid,
  (await withGuard.authenticate(cleanRequest)).ok,
  (await withoutGuard.authenticate(cleanRequest)).ok,
  (await busyGuard.authenticate(busyRequest)).ok,
  busy.guard.size === 1,
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
  { name: 'verify: valid key, IPv4 client, no allowlist', async: true, run: () => plain.verify(key, v4) },
  {
    name: 'verify: valid key, IPv4 client, 2-network allowlist',
    async: true,
    run: () => plain.verify(networkKey, v4),
  },
  { name: 'verify: valid key, IPv6 client, no allowlist', async: true, run: () => plain.verify(key, v6) },
  {
    name: 'verify: valid key, IPv6 client, 2-network allowlist',
    async: true,
    run: () => plain.verify(networkKey, v6),
  },
  {
    name: 'authenticate: valid key, guard off',
    async: true,
    run: () => withoutGuard.authenticate(cleanRequest),
  },
  {
    name: 'authenticate: valid key, guard on (address without failures)',
    async: true,
    run: () => withGuard.authenticate(cleanRequest),
  },
  {
    name: 'authenticate: valid key, guard on, another network failing',
    async: true,
    run: () => busyGuard.authenticate(busyRequest),
  },
  {
    name: 'alone: guard admit + settle, verified id, nobody failing',
    async: false,
    run: () => guarded.guard.settle(guarded.guard.admit('203.0.113.10', guardedId), 'VALID'),
  },
  {
    name: 'alone: guard admit + settle, verified id, another network failing',
    async: false,
    run: () => busy.guard.settle(busy.guard.admit('203.0.113.10', busyKey.split('_')[2] as string), 'VALID'),
  },
  {
    name: 'alone: allowlist check, same client address',
    async: false,
    run: () => repeatAllowlist.allows('2001:db8::10'),
  },
  {
    name: 'alone: allowlist check, 1,000 rotating addresses (IPv4 and IPv6)',
    async: false,
    run: () => rotateAllowlist.allows(rotating[turn++ % 1000]),
  },
]

/** Same-run pairs: what the second case adds to the first, per request. */
const pairs: [string, string, string][] = [
  [
    'brute-force guard, address without failures',
    'authenticate: valid key, guard off',
    'authenticate: valid key, guard on (address without failures)',
  ],
  [
    'brute-force guard, while another network is failing',
    'authenticate: valid key, guard off',
    'authenticate: valid key, guard on, another network failing',
  ],
  [
    'allowlist of 2 networks, IPv4 client',
    'verify: valid key, IPv4 client, no allowlist',
    'verify: valid key, IPv4 client, 2-network allowlist',
  ],
  [
    'allowlist of 2 networks, IPv6 client',
    'verify: valid key, IPv6 client, no allowlist',
    'verify: valid key, IPv6 client, 2-network allowlist',
  ],
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

// Each round times both cases of a pair back to back: the median of the per-round differences is
// steadier than the difference of the medians on a busy machine.
const microseconds = (name: string) => samples.get(name)!.map((opsPerSecond) => 1e6 / opsPerSecond)
console.log(
  '\n| check (same-run pair) | without µs/op | with µs/op | added µs/request (median of rounds) | per-round range |',
)
console.log('|---|---:|---:|---:|---:|')
for (const [label, without, withIt] of pairs) {
  const base = microseconds(without)
  const added = microseconds(withIt)
  const deltas = added.map((value, round) => value - (base[round] as number))
  console.log(
    `| ${label} | ${median(base).toFixed(2)} | ${median(added).toFixed(2)} | ${median(deltas).toFixed(2)} | ${Math.min(...deltas).toFixed(2)} … ${Math.max(...deltas).toFixed(2)} |`,
  )
}
for (const keyward of [plain, limited, guarded, busy]) await keyward.close()
