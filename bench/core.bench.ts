/**
 * Core verify throughput against its floor: one HMAC-SHA-256 of a key, the one cryptographic
 * operation verify cannot avoid. Cases run interleaved (A B C A B C …) in one process so machine
 * noise hits them alike; the table reports the median of the rounds and the ratio to the floor.
 * Usage recording is on (the default) except in the `usage: false` rows, which give its cost.
 * The last table prices two per-request checks in the same way, by alternating pairs: the
 * brute-force guard (the authenticator with and without it) and a key's `allowedNetworks`
 * (verify with and without), plus each timed alone.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createKeyward, parseKey } from '@keyward/core'
import { createAuthenticator, type HttpRequestView } from '@keyward/core/adapter'
import { instrument } from '@keyward/core/opentelemetry'
import { prometheusMetrics } from '@keyward/core/prometheus'
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

/** CPU µs (user + system) this process spends per op: steadier than wall time on a shared machine. */
async function cpuPerOp(bench: Case, ms: number): Promise<number> {
  let ops = 0
  const cpu = process.cpuUsage()
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    for (let i = 0; i < 256; i++) await bench.run()
    ops += 256
  }
  const used = process.cpuUsage(cpu)
  return (used.user + used.system) / ops
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
const unrecorded = createKeyward({ prefix: 'acme', secret, usage: false })
const unrecordedLimited = createKeyward({
  prefix: 'acme',
  secret,
  usage: false,
  rateLimit: { points: 1_000_000_000, duration: 3600 },
})
const { key } = await plain.keys.create({ ownerId: 'org_1', scopes: ['orders:read', 'invoices:*'] })
const { key: unrecordedKey } = await unrecorded.keys.create({
  ownerId: 'org_1',
  scopes: ['orders:read', 'invoices:*'],
})
const { key: unrecordedLimitedKey } = await unrecordedLimited.keys.create({
  ownerId: 'org_1',
  scopes: ['orders:read'],
})
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
  (await unrecorded.verify(unrecordedKey, { scopes: 'invoices:read' })).valid,
  (await unrecordedLimited.verify(unrecordedLimitedKey)).valid,
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
    // Its cheapest form in Node, a string digest, as verify computes it: `digest()` returning a
    // Buffer made in C++ costs ~1.5× as much, and verify would then beat its own floor.
    run: () => createHmac('sha256', pepper).update(key).digest('base64url'),
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

// Usage recording's cost, in pairs: the same verify with recording on (the default) and with
// `usage: false`, in many short rounds that alternate which side runs first; each round gives one
// ratio of the two sides' CPU time per op, and the table reports the median ratio. On a busy
// machine, which case a measurement follows moves it by up to ±15 %; adjacent pairs share that.
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 41)
const pairs: { name: string; recorded: Case; bare: Case }[] = [
  {
    name: 'valid key + scope check',
    recorded: cases[1]!,
    bare: { name: '', async: true, run: () => unrecorded.verify(unrecordedKey, { scopes: 'invoices:read' }) },
  },
  {
    name: 'valid key + rate limit (memory)',
    recorded: cases[2]!,
    bare: { name: '', async: true, run: () => unrecordedLimited.verify(unrecordedLimitedKey) },
  },
]
const paired = pairs.map(() => ({ recorded: [] as number[], bare: [] as number[], ratios: [] as number[] }))
for (const pair of pairs) await cpuPerOp(pair.bare, ROUND_MS) // warm-up
for (let round = 0; round < PAIR_ROUNDS; round++) {
  for (const [index, pair] of pairs.entries()) {
    const sample = paired[index]!
    const recordedFirst = round % 2 === 0
    const first = await cpuPerOp(recordedFirst ? pair.recorded : pair.bare, ROUND_MS / 4)
    const second = await cpuPerOp(recordedFirst ? pair.bare : pair.recorded, ROUND_MS / 4)
    const [recorded, bare] = recordedFirst ? [first, second] : [second, first]
    sample.recorded.push(recorded)
    sample.bare.push(bare)
    sample.ratios.push(recorded / bare)
  }
}
// The reporting path alone (the clock read, the counter bump, the `verification` check), per call.
const reportRuns = 2_000_000
const reportKeyId = parseKey(key)!.id
for (let i = 0; i < reportRuns; i++) plain.recordVerification('VALID', reportKeyId, 'org_1', 0)
const reportStart = process.hrtime.bigint()
for (let i = 0; i < reportRuns; i++) plain.recordVerification('VALID', reportKeyId, 'org_1', 0)
const reportNs = Number(process.hrtime.bigint() - reportStart) / reportRuns

console.log(
  `\nUsage recording: CPU µs per verify, ${PAIR_ROUNDS} alternating rounds × ${ROUND_MS / 4} ms per side; cost = median of the per-round ratios\n`,
)
console.log('| verify | recording on CPU µs/op | usage: false CPU µs/op | recording costs |')
console.log('|---|---:|---:|---:|')
for (const [index, pair] of pairs.entries()) {
  const { recorded, bare, ratios } = paired[index]!
  console.log(
    `| ${pair.name} | ${median(recorded).toFixed(2)} | ${median(bare).toFixed(2)} | ${((median(ratios) - 1) * 100).toFixed(1)} % |`,
  )
}
console.log(
  `\n\`keyward.recordVerification\` alone (what verify adds per outcome): ${reportNs.toFixed(0)} ns per call`,
)

// Metrics and abuse signals, in the same paired rounds. `verify` stays the bare pipeline unless a
// metrics integration wraps it (`keyward.wrapVerify`); OpenTelemetry without a registered SDK
// attaches nothing. Abuse monitoring is on by default: its cost is the pair against `abuse: false`,
// with a client address so the network grouping runs too.
const scoped = { scopes: 'invoices:read' } as const
const fromAddress = { scopes: 'invoices:read', clientAddress: '203.0.113.7' } as const
async function withKey(options: Parameters<typeof createKeyward>[0]) {
  const keyward = createKeyward({ prefix: 'acme', secret, ...options })
  const created = await keyward.keys.create({ ownerId: 'org_1', scopes: ['orders:read', 'invoices:*'] })
  return { keyward, key: created.key }
}
const bare = await withKey({})
const unabused = await withKey({ abuse: false })
const prometheus = await withKey({})
const metrics = prometheusMetrics(prometheus.keyward)
const otelNoSdk = await withKey({})
const unwrapped = otelNoSdk.keyward.verify
const instrumentation = instrument(otelNoSdk.keyward)
if (instrumentation.metrics || instrumentation.traces) {
  throw new Error('bench setup: an OpenTelemetry SDK is registered')
}
const verifyOf = (side: { keyward: typeof plain; key: string }, options: object): Case => ({
  name: '',
  async: true,
  run: () => side.keyward.verify(side.key, options),
})
const metricPairs: { name: string; measured: Case; base: Case; sides: [string, string] }[] = [
  {
    name: 'abuse signals on (default) vs `abuse: false`, with a client address',
    measured: verifyOf(bare, fromAddress),
    base: verifyOf(unabused, fromAddress),
    sides: ['abuse on', 'abuse: false'],
  },
  {
    name: 'Prometheus attached vs no metrics',
    measured: verifyOf(prometheus, scoped),
    base: verifyOf(bare, scoped),
    sides: ['prometheusMetrics', 'none'],
  },
  {
    name: 'OpenTelemetry `instrument()` without an SDK vs no metrics',
    measured: verifyOf(otelNoSdk, scoped),
    base: verifyOf(bare, scoped),
    sides: ['instrument()', 'none'],
  },
]
const metricSamples = metricPairs.map(() => ({
  measured: [] as number[],
  base: [] as number[],
  ratios: [] as number[],
}))
for (const pair of metricPairs) {
  for (const side of [pair.measured, pair.base]) await cpuPerOp(side, ROUND_MS / 4) // warm-up
}
for (let round = 0; round < PAIR_ROUNDS; round++) {
  for (const [index, pair] of metricPairs.entries()) {
    const sample = metricSamples[index]!
    const measuredFirst = round % 2 === 0
    const first = await cpuPerOp(measuredFirst ? pair.measured : pair.base, ROUND_MS / 4)
    const second = await cpuPerOp(measuredFirst ? pair.base : pair.measured, ROUND_MS / 4)
    const [measured, base] = measuredFirst ? [first, second] : [second, first]
    sample.measured.push(measured)
    sample.base.push(base)
    sample.ratios.push(measured / base)
  }
}
console.log(
  `\nMetrics and abuse signals: CPU µs per verify (valid key + scope check), ${PAIR_ROUNDS} alternating rounds × ${ROUND_MS / 4} ms per side; cost = median of the per-round ratios\n`,
)
console.log('| pair | measured CPU µs/op | baseline CPU µs/op | costs |')
console.log('|---|---:|---:|---:|')
for (const [index, pair] of metricPairs.entries()) {
  const { measured, base, ratios } = metricSamples[index]!
  console.log(
    `| ${pair.name} (${pair.sides[0]} / ${pair.sides[1]}) | ${median(measured).toFixed(2)} | ${median(base).toFixed(2)} | ${((median(ratios) - 1) * 100).toFixed(1)} % |`,
  )
}
console.log(
  `\n\`verify\` after \`instrument()\` without an SDK: ${otelNoSdk.keyward.verify === unwrapped && !otelNoSdk.keyward.events.has('verification') ? 'the bare pipeline itself (no wrapper, no listener)' : 'WRAPPED'}`,
)
metrics.close()
await Promise.all([bare, unabused, prometheus, otelNoSdk].map((side) => side.keyward.close()))

// The guard and the allowlist, priced like usage recording: alternating pairs, CPU µs per op; here
// the table reports the median of the per-round differences, in µs per request.
const verifyCase = (name: string, run: () => unknown): Case => ({ name, async: true, run })
const checkPairs: { name: string; without: Case; with: Case }[] = [
  {
    name: 'brute-force guard, address without failures (authenticator)',
    without: verifyCase('', () => withoutGuard.authenticate(cleanRequest)),
    with: verifyCase('', () => withGuard.authenticate(cleanRequest)),
  },
  {
    name: 'brute-force guard, while another network is failing (authenticator)',
    without: verifyCase('', () => withoutGuard.authenticate(cleanRequest)),
    with: verifyCase('', () => busyGuard.authenticate(busyRequest)),
  },
  {
    name: 'allowlist of 2 networks, IPv4 client (verify)',
    without: verifyCase('', () => plain.verify(key, v4)),
    with: verifyCase('', () => plain.verify(networkKey, v4)),
  },
  {
    name: 'allowlist of 2 networks, IPv6 client (verify)',
    without: verifyCase('', () => plain.verify(key, v6)),
    with: verifyCase('', () => plain.verify(networkKey, v6)),
  },
]
const checkSamples = checkPairs.map(() => ({
  without: [] as number[],
  with: [] as number[],
  added: [] as number[],
}))
for (const pair of checkPairs) await cpuPerOp(pair.with, ROUND_MS) // warm-up
for (let round = 0; round < PAIR_ROUNDS; round++) {
  for (const [index, pair] of checkPairs.entries()) {
    const sample = checkSamples[index]!
    const withFirst = round % 2 === 0
    const first = await cpuPerOp(withFirst ? pair.with : pair.without, ROUND_MS / 4)
    const second = await cpuPerOp(withFirst ? pair.without : pair.with, ROUND_MS / 4)
    const [withIt, without] = withFirst ? [first, second] : [second, first]
    sample.with.push(withIt)
    sample.without.push(without)
    sample.added.push(withIt - without)
  }
}
/** Nanoseconds per call of a synchronous check, timed alone. */
function alone(run: () => unknown): number {
  const runs = 2_000_000
  for (let i = 0; i < runs; i++) run()
  const started = process.hrtime.bigint()
  for (let i = 0; i < runs; i++) run()
  return Number(process.hrtime.bigint() - started) / runs
}
const guardedId = parseKey(guardedKey)!.id
const busyId = parseKey(busyKey)!.id
const aloneRows: [string, number][] = [
  [
    'guard admit + settle, verified id, nobody failing',
    alone(() => guarded.guard.settle(guarded.guard.admit('203.0.113.10', guardedId), 'VALID')),
  ],
  [
    'guard admit + settle, verified id, another network failing',
    alone(() => busy.guard.settle(busy.guard.admit('203.0.113.10', busyId), 'VALID')),
  ],
  ['allowlist check, the same client address', alone(() => repeatAllowlist.allows('2001:db8::10'))],
  [
    'allowlist check, 1,000 rotating addresses (half IPv6): every check parses',
    alone(() => rotateAllowlist.allows(rotating[turn++ % 1000])),
  ],
]

console.log(
  `\nGuard and allowlist: CPU µs per request, ${PAIR_ROUNDS} alternating rounds × ${ROUND_MS / 4} ms per side; added = median of the per-round differences\n`,
)
console.log('| check | without CPU µs/op | with CPU µs/op | added µs/request |')
console.log('|---|---:|---:|---:|')
for (const [index, pair] of checkPairs.entries()) {
  const sample = checkSamples[index]!
  console.log(
    `| ${pair.name} | ${median(sample.without).toFixed(2)} | ${median(sample.with).toFixed(2)} | ${median(sample.added).toFixed(2)} |`,
  )
}
console.log('\n| timed alone | ns per call |')
console.log('|---|---:|')
for (const [name, ns] of aloneRows) console.log(`| ${name} | ${ns.toFixed(0)} |`)
await Promise.all(
  [plain, limited, unrecorded, unrecordedLimited, guarded, busy].map((keyward) => keyward.close()),
)
