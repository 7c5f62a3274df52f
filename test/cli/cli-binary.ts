/**
 * The built `keyward` binary for the CLI suites: `ensureCliBuilt()` builds `@keyward/core`,
 * `@keyward/redis` and `@keyward/cli` when a `dist/` is missing or older than its sources (CI
 * builds first, so there it only checks), one suite at a time under a lock; `keyward(args)` runs
 * the binary as a user would — its shebang, its dist imports, no source condition, none of the
 * caller's KEYWARD_* variables — and resolves with its exit code and output.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CLI_BIN: string = join(root, 'packages/cli/dist/bin.mjs')
const BUILT_PACKAGES = ['core', 'redis', 'cli']
// Outside the repo, one per checkout: suites of this checkout running in parallel build once.
const LOCK = join(
  tmpdir(),
  `keyward-cli-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`,
)
const run = promisify(execFile)

/** The environment of a user's shell: no `@keyward/source` condition, no KEYWARD_* of ours. */
function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('KEYWARD_') || name.startsWith('npm_')) continue
    env[name] = value
  }
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').replace(/--conditions[= ]@keyward\/source/g, '').trim()
  if (nodeOptions === '') delete env.NODE_OPTIONS
  else env.NODE_OPTIONS = nodeOptions
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}

function newestMtime(path: string, skip: (name: string) => boolean = () => false): number {
  if (!existsSync(path)) return 0
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  let newest = 0
  for (const name of readdirSync(path)) {
    if (!skip(name)) newest = Math.max(newest, newestMtime(join(path, name), skip))
  }
  return newest
}

function oldestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const times = readdirSync(path).map((name) => statSync(join(path, name)).mtimeMs)
  return times.length === 0 ? 0 : Math.min(...times)
}

function isStale(name: string): boolean {
  const dir = join(root, 'packages', name)
  const sources = Math.max(
    newestMtime(join(dir, 'src'), (file) => file.endsWith('.test.ts') || file.endsWith('.test-d.ts')),
    newestMtime(join(dir, 'package.json')),
    newestMtime(join(dir, 'tsdown.config.ts')),
  )
  return oldestMtime(join(dir, 'dist')) < sources
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 240_000
  for (;;) {
    try {
      mkdirSync(LOCK)
      break
    } catch {
      // A lock this old belongs to a run that died mid-build.
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (age > 240_000) rmSync(LOCK, { recursive: true, force: true })
      if (Date.now() > deadline) throw new Error(`waited too long for ${LOCK}`)
      await new Promise((wake) => setTimeout(wake, 250))
    }
  }
  try {
    return await work()
  } finally {
    rmSync(LOCK, { recursive: true, force: true })
  }
}

/** Builds what the binary needs when a `dist/` is missing or stale (in dependency order). */
export async function ensureCliBuilt(): Promise<void> {
  if (!BUILT_PACKAGES.some(isStale)) return
  await withLock(async () => {
    for (const name of BUILT_PACKAGES) {
      if (!isStale(name)) continue
      await run(join(root, 'node_modules/.bin/tsdown'), [], {
        cwd: join(root, 'packages', name),
        env: userEnv(),
        maxBuffer: 16 * 1024 * 1024,
      })
    }
  })
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Variables set (or, with `undefined`, removed) for this run. */
  env?: Record<string, string | undefined>
  /** Written to the binary's stdin, which is then closed. */
  stdin?: string
  cwd?: string
}

/** Runs the built binary (through its shebang) and collects what it printed. */
export function keyward(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(CLI_BIN, args, {
      cwd: options.cwd ?? root,
      env: userEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', fail)
    child.once('close', (code) => done({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? '')
  })
}

/** `keyward(args)` expecting exit code 0 and JSON on stdout. */
export async function keywardJson<T>(args: readonly string[], options: CliOptions = {}): Promise<T> {
  const result = await keyward([...args, '--json'], options)
  if (result.code !== 0) {
    throw new Error(`keyward ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  }
  return JSON.parse(result.stdout) as T
}
