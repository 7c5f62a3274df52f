/**
 * The built `keyward` binary against a real redis-server: every key command in human and `--json`
 * form, owners, usage after real verifications, and the exit code and one-line error of each way a
 * command can fail. Keys minted by the binary must verify in a service configured alike.
 */
import { createKeyward, type Keyward } from '@keyward/core'
import { formatKey } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '../support/ioredis.ts'
import { TEST_SECRET } from '../support/redis-fixtures.ts'
import { freePort, type RedisServer, startRedisServer } from '../support/redis-server.ts'
import { type CliResult, ensureCliBuilt, keyward, keywardJson } from './cli-binary.ts'

interface KeyJson {
  id: string
  ownerId: string
  name: string | null
  environment: string
  scopes: string[]
  expiresAt: string | null
  revokedAt: string | null
  rateLimit: { points: number; duration: number }[] | null
  credits: { remaining: number; refill: { amount: number; interval: number } | null } | null
  allowedNetworks: string[] | null
  meta: Record<string, unknown>
  rotatedFrom: string | null
  rotatedTo: string | null
  lastUsedAt: string | null
}

let server: RedisServer
let env: Record<string, string>
let service: Keyward
let serviceClient: Redis

// Every test runs the binary several times; on a loaded 2-core machine one run can take seconds.
const SLOW = { timeout: 180_000 }

/** One line on stderr, nothing on stdout: how every failure looks. */
function expectOneErrorLine(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(code)
  expect(result.stdout).toBe('')
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(result.stderr).toMatch(/^keyward: /)
  expect(result.stderr).toMatch(pattern)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

beforeAll(async () => {
  await ensureCliBuilt()
  server = await startRedisServer()
  env = { KEYWARD_REDIS_URL: server.url, KEYWARD_SECRET: TEST_SECRET }
  // A service configured like the CLI: the keys the binary mints must verify here.
  serviceClient = new Redis(server.url)
  service = createKeyward({ secret: TEST_SECRET, store: new RedisStore({ client: serviceClient }) })
}, 240_000)

afterAll(async () => {
  await service?.close()
  await serviceClient?.quit()
  await server?.dispose()
})

describe('keyward keys create', SLOW, () => {
  it('mints a key with every option, prints it once with the shown-once note, and the key verifies', async () => {
    const result = await keyward(
      [
        'keys',
        'create',
        '--owner',
        'org_42',
        '--name',
        'billing-sync',
        '--scope',
        'orders:read',
        '--scope',
        'invoices:*',
        '--rate',
        '100/1m',
        '--rate',
        '10/1s',
        '--credits',
        '1000',
        '--refill',
        '1000/30d',
        '--expires',
        '30d',
        '--network',
        '10.0.0.0/8',
        '--meta',
        '{"plan":"pro"}',
      ],
      { env },
    )
    expect(result.code, result.stderr).toBe(0)
    const key = /\b(kw_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{38})\b/.exec(result.stdout)?.[1]
    expect(key).toBeDefined()
    expect(result.stdout.split(key as string)).toHaveLength(2) // printed exactly once
    expect(result.stdout).toContain('This is the only time the key is shown')
    expect(result.stdout).toMatch(/^scopes +orders:read invoices:\*$/m)
    expect(result.stdout).toMatch(/^rate limits +100\/1m, 10\/1s$/m)
    expect(result.stdout).toMatch(/^credits +1000 left \(refilled to 1000 every 30d\)$/m)
    expect(result.stdout).toMatch(/^networks +10\.0\.0\.0\/8$/m)

    const verified = await service.verify(key as string, {
      scopes: 'invoices:read',
      clientAddress: '10.1.2.3',
    })
    expect(verified).toMatchObject({
      valid: true,
      key: { ownerId: 'org_42', name: 'billing-sync', meta: { plan: 'pro' } },
    })
  })

  it('answers --json with { key, record } and nothing else on stdout', async () => {
    const created = await keywardJson<{ key: string; record: KeyJson }>(
      ['keys', 'create', '--owner', 'org_json', '--env', 'test', '--expires', '2099-01-01'],
      { env },
    )
    expect(created.key).toMatch(/^kw_test_/)
    expect(created.record).toMatchObject({
      ownerId: 'org_json',
      environment: 'test',
      expiresAt: '2099-01-01T00:00:00.000Z',
      revokedAt: null,
    })
    expect(created.record).not.toHaveProperty('hash')
  })

  it('refuses to mint without KEYWARD_SECRET, but reads and revokes without it', async () => {
    const created = await keywardJson<{ record: KeyJson }>(['keys', 'create', '--owner', 'org_nosecret'], {
      env,
    })
    const noSecret = { KEYWARD_REDIS_URL: server.url }
    expectOneErrorLine(
      await keyward(['keys', 'create', '--owner', 'org_nosecret'], { env: noSecret }),
      2,
      /KEYWARD_SECRET is not set/,
    )
    const listed = await keywardJson<{ items: KeyJson[] }>(['keys', 'list', '--owner', 'org_nosecret'], {
      env: noSecret,
    })
    expect(listed.items.map((key) => key.id)).toEqual([created.record.id])
    const revoked = await keywardJson<KeyJson>(['keys', 'revoke', created.record.id], { env: noSecret })
    expect(revoked.revokedAt).not.toBeNull()
  })
})

describe('keyward keys list | get | rotate | revoke | delete', SLOW, () => {
  it('walks a key through its lifecycle, in --json and as text', async () => {
    const first = await keywardJson<{ key: string; record: KeyJson }>(
      ['keys', 'create', '--owner', 'org_life', '--name', 'one', '--scope', 'a:read'],
      { env },
    )
    const second = await keywardJson<{ record: KeyJson }>(
      ['keys', 'create', '--owner', 'org_life', '--name', 'two'],
      {
        env,
      },
    )
    const id = first.record.id

    const page = await keywardJson<{ items: KeyJson[]; cursor: string | null }>(
      ['keys', 'list', '--owner', 'org_life', '--limit', '1'],
      { env },
    )
    expect(page.items.map((key) => key.id)).toEqual([id])
    expect(page.cursor).not.toBeNull()
    const next = await keywardJson<{ items: KeyJson[]; cursor: string | null }>(
      ['keys', 'list', '--owner', 'org_life', '--limit', '1', '--cursor', page.cursor as string],
      { env },
    )
    expect(next.items.map((key) => key.id)).toEqual([second.record.id])

    const table = await keyward(['keys', 'list', '--owner', 'org_life'], { env })
    expect(table.code).toBe(0)
    const [header, ...rows] = table.stdout.trimEnd().split('\n')
    expect(header).toMatch(/^ID +NAME +ENV +STATUS +SCOPES +CREDITS +EXPIRES +CREATED +LAST USED$/)
    expect(rows).toHaveLength(2)
    // Aligned: every row's STATUS starts in the header's STATUS column.
    const statusColumn = (header as string).indexOf('STATUS')
    for (const row of rows) expect(row.slice(statusColumn)).toMatch(/^active /)
    expect(table.stdout).not.toContain(first.key)

    const got = await keywardJson<KeyJson>(['keys', 'get', id], { env })
    expect(got).toMatchObject({ id, name: 'one', scopes: ['a:read'], lastUsedAt: null })
    const text = await keyward(['keys', 'get', id], { env })
    expect(text.stdout).toMatch(new RegExp(`^id +${id}$`, 'm'))
    expect(text.stdout).toMatch(/^status +active$/m)

    const rotated = await keywardJson<{ key: string; record: KeyJson; previous: KeyJson }>(
      ['keys', 'rotate', id, '--grace', '24h', '--reason', 'yearly'],
      { env },
    )
    expect(rotated.previous.rotatedTo).toBe(rotated.record.id)
    expect(rotated.record.rotatedFrom).toBe(id)
    const graceEnd = Date.parse(rotated.previous.expiresAt as string)
    expect(graceEnd - Date.now()).toBeGreaterThan(23.9 * 3_600_000)
    expect((await service.verify(first.key)).valid).toBe(true) // old key: in its grace period
    expect((await service.verify(rotated.key)).valid).toBe(true)
    const oldText = await keyward(['keys', 'get', id], { env })
    expect(oldText.stdout).toMatch(new RegExp(`^status +rotated to ${rotated.record.id}: works until `, 'm'))

    expectOneErrorLine(
      await keyward(['keys', 'rotate', id], { env }),
      1,
      /already rotated; rotate its successor/,
    )

    const again = await keyward(['keys', 'rotate', rotated.record.id], { env })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('This is the only time the key is shown')
    expect(again.stdout).toMatch(/The old key \w{12} was revoked at once\./)

    const newest = /Rotated key \w{12} → (\w{12})/.exec(again.stdout)?.[1] as string
    const revoked = await keyward(['keys', 'revoke', newest, '--reason', 'leaked'], { env })
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toMatch(
      new RegExp(`^Revoked key ${newest} \\(org_life\\) at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\.\\n$`),
    )
    expect(await service.verify(rotated.key)).toMatchObject({ valid: false, code: 'REVOKED' })

    const deleted = await keywardJson<KeyJson>(['keys', 'delete', second.record.id, '--reason', 'cleanup'], {
      env,
    })
    expect(deleted.id).toBe(second.record.id)
    expectOneErrorLine(await keyward(['keys', 'get', second.record.id], { env }), 1, /no key with id/)
    expectOneErrorLine(await keyward(['keys', 'delete', second.record.id], { env }), 1, /no key with id/)
  })

  it('says so on stderr, with exit code 0, when an owner has no keys', async () => {
    const result = await keyward(['keys', 'list', '--owner', 'org_nobody'], { env })
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toContain('no keys for owner "org_nobody"')
    expect(await keywardJson(['keys', 'list', '--owner', 'org_nobody'], { env })).toEqual({
      items: [],
      cursor: null,
    })
  })
})

describe('keyward owners', SLOW, () => {
  it('sets, reads and deletes an owner', async () => {
    const set = await keyward(
      ['owners', 'set', 'org_pool', '--rate', '1000/1m', '--credits', '50000', '--refill', '50000/30d'],
      { env },
    )
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(/^rate limits +1000\/1m$/m)
    expect(await keywardJson(['owners', 'get', 'org_pool'], { env })).toMatchObject({
      id: 'org_pool',
      credits: { remaining: 50000, refill: { amount: 50000, interval: 30 * 86_400_000 } },
    })
    expect((await service.owners.get('org_pool'))?.rateLimit).toMatchObject([{ points: 1000, duration: 60 }])
    expect((await keyward(['owners', 'delete', 'org_pool'], { env })).code).toBe(0)
    expectOneErrorLine(
      await keyward(['owners', 'get', 'org_pool'], { env }),
      1,
      /owner "org_pool" has no record/,
    )
  })
})

describe('keyward usage', SLOW, () => {
  it("prints a key's verifications by outcome as a table and sparklines, and the same numbers in --json", async () => {
    const { key, record } = await keywardJson<{ key: string; record: KeyJson }>(
      ['keys', 'create', '--owner', 'org_usage', '--rate', '5/1m', '--credits', '100'],
      { env },
    )
    for (let i = 0; i < 8; i++) await service.verify(key) // 5 VALID, 3 RATE_LIMITED
    const wrongSecret = formatKey('kw', 'live', record.id, 'x'.repeat(32))
    await service.verify(wrongSecret) // NOT_FOUND, counted against the id it names
    await service.usage.flush()

    const report = await keywardJson<{
      keyId: string
      granularity: string
      buckets: { start: string; requests: number }[]
      totals: { counts: Record<string, number>; requests: number; credits: number }
    }>(['usage', record.id, '--since', '1h'], { env })
    expect(report).toMatchObject({ keyId: record.id, granularity: 'minute' })
    expect(report.buckets).toHaveLength(60)
    expect(report.totals).toMatchObject({ requests: 9, credits: 5 })
    expect(report.totals.counts).toMatchObject({ VALID: 5, RATE_LIMITED: 3, NOT_FOUND: 1 })

    const text = await keyward(['usage', record.id, '--since', '1h'], { env })
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`Usage of key ${record.id}, last 1h by minute`)
    expect(text.stdout).toMatch(/^START \(UTC\) +REQUESTS +VALID +NOT_FOUND +RATE_LIMITED +CREDITS$/m)
    expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d +9 +5 +1 +3 +5$/m)
    expect(text.stdout).toMatch(/^VALID +[▁▂▃▄▅▆▇█]{60} +5$/m)
    expect(text.stdout).toMatch(/^RATE_LIMITED +[▁▂▃▄▅▆▇█]{60} +3$/m)
    expect(text.stdout).not.toContain(key)

    const owner = await keywardJson<{ totals: { requests: number } }>(['usage', '--owner', 'org_usage'], {
      env,
    })
    expect(owner.totals.requests).toBe(8) // the wrong secret never reached the owner

    const got = await keywardJson<KeyJson>(['keys', 'get', record.id], { env })
    expect(got.lastUsedAt).not.toBeNull()
  })

  it('warns about an unknown key id, and refuses a range older than the buckets are kept', async () => {
    const unknown = await keyward(['usage', 'AAAAAAAAAAAA', '--since', '10m'], { env })
    expect(unknown.code).toBe(0)
    expect(unknown.stderr).toContain('no key with id "AAAAAAAAAAAA"')
    expect(unknown.stdout).toContain('no verifications in this range')
    expectOneErrorLine(
      await keyward(['usage', 'AAAAAAAAAAAA', '--since', '3d', '--granularity', 'minute'], { env }),
      2,
      /invalid --since: reaches back further than minute buckets are kept/,
    )
    expectOneErrorLine(await keyward(['usage'], { env }), 2, /give a key id or --owner/)
  })
})

describe('errors and exit codes', SLOW, () => {
  it('exits 2 with one line for bad values, naming the flag, before touching Redis', async () => {
    const unreachable = { ...env, KEYWARD_REDIS_URL: `redis://127.0.0.1:${await freePort()}` }
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [
        ['keys', 'create', '--owner', 'x', '--rate', '10/x'],
        /invalid --rate "10\/x": expected <requests>\/<window>/,
      ],
      [['keys', 'create', '--owner', 'x', '--expires', 'soon'], /invalid --expires "soon"/],
      [['keys', 'create', '--owner', 'x', '--refill', '10/1d'], /--refill needs --credits/],
      [['keys', 'create', '--owner', 'x', '--env', 'prod'], /Allowed choices are live, test/],
      [['keys', 'create', '--owner', 'x', '--meta', '[1]'], /invalid --meta: expected a JSON object/],
      [
        ['keys', 'list', '--owner', 'x', '--limit', '0'],
        /invalid --limit "0": expected a whole number from 1 to 1000/,
      ],
      [['keys', 'rotate', 'x', '--grace', '1 day'], /invalid --grace "1 day"/],
      [['keys', 'create'], /required option '--owner <id>' not specified/],
      [['keys', 'creat'], /unknown command 'creat'/],
      [['keys', 'list', '--owner', 'x', '--bogus'], /unknown option '--bogus'/],
      [['keys', 'list', '--owner', 'x', '--prefix', 'No_Good'], /invalid --prefix: must be 2–12 characters/],
      [
        ['keys', 'create', '--owner', 'x'],
        /invalid KEYWARD_SECRET: must be a string of at least 32 characters/,
        { ...unreachable, KEYWARD_SECRET: 'short' },
      ],
      [['keys', 'list', '--owner', 'x'], /no backend: pass --redis-url/, {}],
    ]
    const results = await Promise.all(
      cases.map(([args, , caseEnv]) => keyward(args, { env: caseEnv ?? unreachable })),
    )
    results.forEach((result, index) => {
      const [args, pattern] = cases[index] as [string[], RegExp]
      expect(result.stderr, args.join(' ')).toMatch(pattern)
      expectOneErrorLine(result, 2, pattern)
    })
  })

  it('exits 2 for values core refuses, naming the flag', async () => {
    expectOneErrorLine(
      await keyward(['keys', 'create', '--owner', 'x', '--network', '10.0.0.0/33'], { env }),
      2,
      /invalid --network \(allowedNetworks\[0\]\): "10\.0\.0\.0\/33" is not a CIDR/,
    )
    expectOneErrorLine(
      await keyward(['keys', 'list', '--owner', 'x', '--key-prefix', '{bad}'], { env }),
      2,
      /invalid --key-prefix: /,
    )
  })

  it('exits 3 with one line when Redis cannot be reached, without printing its password', async () => {
    const port = await freePort()
    const result = await keyward(
      ['keys', 'list', '--owner', 'x', '--redis-url', `redis://:hunter2@127.0.0.1:${port}`],
      {
        env,
      },
    )
    expectOneErrorLine(
      result,
      3,
      new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`),
    )
    expect(result.stderr).not.toContain('hunter2')
  })

  it('prints the stack with --debug', async () => {
    const port = await freePort()
    const result = await keyward(['keys', 'get', 'x', '--debug', '--redis-url', `redis://127.0.0.1:${port}`])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/CliError: cannot reach Redis/)
    expect(result.stderr).toMatch(/\n\s+at /)
  })

  it('lets a --redis-url flag win over KEYWARD_API_URL, and refuses two backends from the environment', async () => {
    const both = { ...env, KEYWARD_API_URL: 'http://127.0.0.1:1/admin' }
    expectOneErrorLine(
      await keyward(['keys', 'list', '--owner', 'x'], { env: both }),
      2,
      /both KEYWARD_REDIS_URL and KEYWARD_API_URL are set/,
    )
    const flag = await keyward(['keys', 'list', '--owner', 'x', '--redis-url', server.url], { env: both })
    expect(flag.code, flag.stderr).toBe(0)
  })
})
