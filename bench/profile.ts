/**
 * Where the server's CPU goes on the HTTP hot path: starts bench/profile-server.ts (one variant,
 * pinned to core 0) under `node --cpu-prof`, loads it with autocannon (pinned to core 1), and
 * prints the functions that cost the most self time, grouped by where they live (keyward, Hono,
 * Node's HTTP, crypto, …) — the table in BENCHMARKS.md, "Where the time goes". Like `pnpm bench`
 * it profiles the built packages (run `pnpm build` first), not the source through tsx.
 *
 *   npx tsx bench/profile.ts     (VARIANT=keyward|bare|diy|redis-strict|redis-local|diy-redis,
 *                                 REDIS_PORT for the redis ones, SECONDS=10, TOP=25)
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const variant = process.env.VARIANT ?? 'keyward'
const seconds = Number(process.env.SECONDS ?? 10)
const top = Number(process.env.TOP ?? 25)
const port = 3999
const directory = mkdtempSync(join(tmpdir(), 'keyward-profile-'))
const root = fileURLToPath(new URL('..', import.meta.url))

const server = spawn(
  'taskset',
  [
    '-c',
    '0',
    process.execPath,
    '--cpu-prof',
    `--cpu-prof-dir=${directory}`,
    '--import',
    'tsx',
    'bench/profile-server.ts',
  ],
  {
    cwd: root,
    env: { ...process.env, VARIANT: variant, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
const { key } = await new Promise<{ key: string }>((resolve) => {
  createInterface({ input: server.stdout! }).once('line', (line) => resolve(JSON.parse(line)))
})
await autocannon({
  url: `http://127.0.0.1:${port}/hello`,
  connections: 50,
  duration: 2,
  headers: { authorization: `Bearer ${key}` },
})
const result = await autocannon({
  url: `http://127.0.0.1:${port}/hello`,
  connections: 50,
  duration: seconds,
  headers: { authorization: `Bearer ${key}` },
})
server.kill('SIGINT')
await new Promise((resolve) => server.once('exit', resolve))

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount: number
}
const file = readdirSync(directory).find((name) => name.endsWith('.cpuprofile')) as string
const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as {
  nodes: Node[]
  startTime: number
  endTime: number
}
const totalHits = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0)
const microsPerHit = (profile.endTime - profile.startTime) / totalHits
const requests = result.requests.total
const byFunction = new Map<string, number>()
const byArea = new Map<string, number>()
const area = (url: string, name: string): string => {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name
  if (url.includes('/packages/core/')) return 'keyward core'
  if (url.includes('/packages/hono/')) return 'keyward hono adapter'
  if (url.includes('rate-limiter-flexible')) return 'rate-limiter-flexible'
  if (url.includes('@hono/node-server')) return '@hono/node-server'
  if (url.includes('/hono/')) return 'hono'
  if (url.startsWith('node:') || url === '')
    return name.includes('Hmac') || name.includes('digest') ? 'crypto' : 'node'
  return 'other'
}
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame
  const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${lineNumber + 1}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + node.hitCount)
  const where = area(url, functionName)
  byArea.set(where, (byArea.get(where) ?? 0) + node.hitCount)
}
const perRequest = (hits: number) => ((hits * microsPerHit) / requests).toFixed(2)
console.log(
  `variant ${variant}: ${requests} requests in ${seconds} s (${Math.round(result.requests.average)} req/s), server pinned to one core\n`,
)
console.log('| where | self µs per request |\n|---|---:|')
for (const [where, hits] of [...byArea].sort((a, b) => b[1] - a[1])) {
  if (where !== '(idle)') console.log(`| ${where} | ${perRequest(hits)} |`)
}
console.log(`\n| function (self time) | µs per request |\n|---|---:|`)
for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (!name.startsWith('(idle)')) console.log(`| \`${name}\` | ${perRequest(hits)} |`)
}
