/**
 * Instructions per request on the HTTP path, counted by valgrind's callgrind: the same server
 * processes as `pnpm bench http` (its `serve` mode), each warmed up, then its counters zeroed, then
 * loaded with a fixed number of requests. Unlike req/s and CPU time, which drift by up to 2× within
 * a minute on a shared VM, the count repeats within ~1 % from run to run, so it can tell a change
 * of a few hundred instructions per request. It counts only the server's main thread in user
 * space: not the kernel (socket writes), not V8's compiler and GC helper threads (under valgrind
 * they run far longer than at full speed). So its ratios are not the req/s ratios of
 * `pnpm bench http`; they say where the JavaScript work goes, and by how much a change moves it.
 *
 *   pnpm bench instructions   (needs valgrind; INSTRUCTIONS_WARMUP=20000 INSTRUCTIONS_REQUESTS=3000
 *                              INSTRUCTIONS_ONLY=koa — substrings of the variant names; each
 *                              variant's framework brings its bare route)
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

// In-memory variants only: under valgrind a Redis round trip outlasts the store's command timeout.
const VARIANTS = ['hono bare', 'hono hmac', 'hono diy', 'hono keyward', 'koa bare', 'koa diy', 'koa keyward']
const WARMUP = Number(process.env.INSTRUCTIONS_WARMUP ?? 20_000)
const REQUESTS = Number(process.env.INSTRUCTIONS_REQUESTS ?? 3_000)
const ONLY = process.env.INSTRUCTIONS_ONLY?.split(',')
/** The bare route of a variant's framework: `hono keyward` → `hono bare`. */
const bareName = (variant: string) => `${variant.split(' ')[0]} bare`
const server = fileURLToPath(new URL('./http.bench.ts', import.meta.url))

interface Count {
  variant: string
  /** Main-thread instructions per request. */
  perRequest: number
}

async function count(variant: string, directory: string): Promise<Count> {
  const child: ChildProcess = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(directory, 'callgrind.%p')}`,
      process.execPath,
      ...process.execArgv,
      server,
      'serve',
      '0', // the Redis port: no variant here uses Redis
      variant,
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000)
  })
  try {
    const { port, key } = await new Promise<{ port: number; key: string }>((resolve, reject) => {
      child.once('message', (message) => resolve(message as { port: number; key: string }))
      child.once('exit', (code) => reject(new Error(`${variant}: server exited with ${code}\n${stderr}`)))
    })
    const load = async (amount: number) => {
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/hello`,
        connections: 10,
        amount,
        timeout: 60,
        headers: { authorization: `Bearer ${key}` },
      })
      if (result.errors > 0 || result.non2xx > 0) {
        throw new Error(`${variant}: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
      }
    }
    await load(WARMUP)
    execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' })
    await load(REQUESTS)
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' })
    // The dump after zeroing is part 1; thread 1 is the main thread (the event loop).
    const file = readdirSync(directory).find((name) => name === `callgrind.${child.pid}.1-01`)
    if (file === undefined) throw new Error(`${variant}: no callgrind dump for the main thread`)
    const summary = /^summary: (\d+)$/m.exec(readFileSync(join(directory, file), 'utf8'))
    if (summary === null) throw new Error(`${variant}: no summary line in ${file}`)
    return { variant, perRequest: Number(summary[1]) / REQUESTS }
  } finally {
    child.kill('SIGKILL')
  }
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('valgrind is not installed (apt-get install -y valgrind): skipped.')
    return
  }
  const chosen = VARIANTS.filter(
    (variant) => ONLY === undefined || ONLY.some((part) => variant.includes(part)),
  )
  // Each chosen variant's framework brings its bare route, which the ratios are taken against.
  const selected = VARIANTS.filter(
    (variant) => chosen.includes(variant) || chosen.some((other) => variant === bareName(other)),
  )
  const directory = mkdtempSync(join(tmpdir(), 'keyward-instructions-'))
  try {
    const counts: Count[] = []
    // Two at a time: the counts do not depend on what else runs, only the wall time does.
    for (let i = 0; i < selected.length; i += 2) {
      counts.push(
        ...(await Promise.all(selected.slice(i, i + 2).map((variant) => count(variant, directory)))),
      )
    }
    console.log(
      `callgrind, ${WARMUP} requests of warm-up, then ${REQUESTS} counted (autocannon, 10 connections); main thread, user space only.\n`,
    )
    console.log('| variant | instructions per request | over bare | bare ÷ variant |')
    console.log('|---|---:|---:|---:|')
    for (const entry of counts) {
      const bare = counts.find((other) => other.variant === bareName(entry.variant)) as Count
      console.log(
        `| ${entry.variant} | ${Math.round(entry.perRequest)} | ${Math.round(entry.perRequest - bare.perRequest)} | ${(bare.perRequest / entry.perRequest).toFixed(2)} |`,
      )
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

await main()
