/**
 * The `pnpm start` demo does what it prints: starts it on a free port, reads the keys and curl
 * commands from its banner, runs each command with the shell as a user would, checks the outcome
 * the banner promises, then stops it with SIGTERM and expects a clean exit.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { USAGE_OUTCOMES } from '@keyward/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const sh = promisify(execFile)

let demo: ChildProcess
let banner = ''
const commands: { comment: string; command: string }[] = []
const KEY = /demo_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}/

beforeAll(async () => {
  demo = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${banner}`)), 30_000)
    demo.stdout?.on('data', (chunk: Buffer) => {
      banner += chunk.toString()
      if (banner.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer)
        resolve()
      }
    })
    demo.stderr?.on('data', (chunk: Buffer) => {
      banner += chunk.toString()
    })
    demo.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${banner}`)))
  })
  const lines = banner.split('\n')
  lines.forEach((line, index) => {
    if (line.startsWith('curl ') || line.startsWith('for ')) {
      commands.push({ comment: lines[index - 1] ?? '', command: line })
    }
  })
})

afterAll(() => {
  if (demo.exitCode === null) demo.kill('SIGKILL')
})

const run = async (index: number) => {
  const entry = commands[index]
  if (entry === undefined) throw new Error(`no command #${index + 1} in the banner:\n${banner}`)
  return (await sh('sh', ['-c', entry.command])).stdout
}

describe('pnpm start (examples/demo)', () => {
  it('prints a read-only key, an admin key, the dashboard with a keyward admin key, and seven commands', () => {
    expect(banner).toMatch(new RegExp(`READ_KEY=${KEY.source}`))
    expect(banner).toMatch(new RegExp(`\\bADMIN_KEY=${KEY.source}`))
    expect(banner).toMatch(/^Dashboard: http:\/\/localhost:\d+\/admin\/$/m)
    expect(banner).toMatch(new RegExp(`KEYWARD_ADMIN_KEY=${KEY.source}`))
    expect(commands.map((entry) => entry.comment.slice(0, 6))).toEqual([
      '# 1. 2',
      '# 2. 4',
      '# 3. 4',
      '# 4. 2',
      '# 5. 4',
      '# 6. 2',
      '# 7. 2',
    ])
  })

  it('#1 succeeds with RateLimit-Policy and RateLimit headers', async () => {
    const output = await run(0)
    expect(output).toMatch(/^HTTP\/1\.1 200/)
    expect(output).toMatch(/^ratelimit-policy: "demo";q=5;w=10\r?$/im)
    expect(output).toMatch(/^ratelimit: "demo";r=4;t=\d+\r?$/im)
  })

  it('#2 is refused with 403 insufficient_scope', async () => {
    const output = await run(1)
    expect(output).toMatch(/^HTTP\/1\.1 403/)
    expect(output).toMatch(/error="insufficient_scope", scope="orders:write"/)
  })

  it('#3 ends in 429 after a burst', async () => {
    const codes = (await run(2)).trim().split('\n')
    expect(codes).toHaveLength(10)
    expect(codes[0]).toBe('200')
    expect(codes.at(-1)).toBe('429')
    expect(codes.filter((code) => code === '429').length).toBeGreaterThanOrEqual(5)
  })

  it("#4 returns the caller's own key details without its secret", async () => {
    const output = await run(3)
    const me = JSON.parse(output) as Record<string, unknown>
    expect(me).toMatchObject({
      ownerId: 'org_demo',
      name: 'demo-admin',
      scopes: ['orders:read', 'orders:write', 'admin'],
    })
    const adminKey = banner.match(new RegExp(`\\bADMIN_KEY=(${KEY.source})`))?.[1] as string
    expect(me.id).toBe(adminKey.split('_')[2])
    expect(output).not.toContain(adminKey.slice(23))
  })

  it('#5 without a key is 401 with a Bearer challenge', async () => {
    const output = await run(4)
    expect(output).toMatch(/^HTTP\/1\.1 401/)
    expect(output).toMatch(/^www-authenticate: Bearer realm="demo"\r?$/im)
  })

  it("#6 shows the read key's usage: every request above, per outcome, in minute buckets", async () => {
    const usage = JSON.parse(await run(5)) as {
      keyId: string
      lastUsedAt: string | null
      granularity: string
      buckets: { start: string; requests: number; counts: Record<string, number> }[]
      totals: { requests: number; counts: Record<string, number> }
    }
    const readKey = banner.match(new RegExp(`READ_KEY=(${KEY.source})`))?.[1] as string
    expect(usage.keyId).toBe(readKey.split('_')[2])
    expect(usage.granularity).toBe('minute')
    expect(usage.buckets.length).toBeGreaterThanOrEqual(5)
    expect(Object.keys(usage.buckets[0]!.counts)).toHaveLength(USAGE_OUTCOMES.length)
    // #1 and #2 (requireScopes refuses after a valid verification), then #3's burst of ten.
    expect(usage.totals.requests).toBe(12)
    expect(usage.totals.counts.VALID! + usage.totals.counts.RATE_LIMITED!).toBe(12)
    expect(usage.totals.counts.RATE_LIMITED).toBeGreaterThanOrEqual(5)
    expect(usage.lastUsedAt).not.toBeNull()
  })

  it("#7 lists org_demo's keys through the admin API, with the keyward admin key", async () => {
    const page = JSON.parse(await run(6)) as {
      items: { name: string; ownerId: string }[]
      cursor: string | null
    }
    expect(page.items.map((key) => key.name).sort()).toEqual(['demo-admin', 'demo-read'])
    expect(page.items.every((key) => key.ownerId === 'org_demo')).toBe(true)
  })

  it('serves the dashboard at the printed URL', async () => {
    const url = /^Dashboard: (\S+)$/m.exec(banner)?.[1] as string
    const response = await fetch(url)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await response.text()).toContain('<meta name="keyward-mode" content="admin">')
  })

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)))
    demo.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
