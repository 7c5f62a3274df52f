/**
 * `keyward scan` (the built binary) on a temporary tree with keys planted in the file types keys
 * leak through — .env, JSON, TypeScript, YAML, a minified one-line bundle, a CRLF file — beside
 * look-alikes that must not be reported: a wrong checksum, another installation's prefix, keys in
 * .git, node_modules and a binary file. It reports file:line and the id, never the secret.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureCliBuilt, keyward } from './cli-binary.ts'

const SLOW = { timeout: 120_000 }

function newKey(
  prefix = 'kw',
  environment: 'live' | 'test' = 'live',
): { key: string; id: string; secret: string } {
  const id = randomBase62(12)
  const secret = randomBase62(32)
  return { key: formatKey(prefix, environment, id, secret), id, secret }
}

/** Same shape, wrong checksum: a made-up example in docs, or a typo. */
function wrongChecksum(key: string): string {
  return key.slice(0, -1) + (key.endsWith('0') ? '1' : '0')
}

const envKey = newKey()
const jsonKey = newKey('kw', 'test')
const tsKey = newKey()
const yamlKey = newKey()
const minifiedKeys = [newKey(), newKey()]
const crlfKey = newKey()
const acmeKey = newKey('acme')
const hidden = newKey() // only in .git, node_modules and a binary file
const planted = [envKey, jsonKey, tsKey, yamlKey, ...minifiedKeys, crlfKey, acmeKey, hidden]

let tree: string

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(tree, path)), { recursive: true })
  writeFileSync(join(tree, path), content)
}

/** Neither stream may carry a secret or a whole key. */
function expectNoSecrets(text: string): void {
  for (const { key, secret } of planted) {
    expect(text).not.toContain(key)
    expect(text).not.toContain(secret)
  }
}

beforeAll(async () => {
  await ensureCliBuilt()
  tree = mkdtempSync(join(tmpdir(), 'keyward-scan-'))
  write('.env', `# local settings\nDATABASE_URL=postgres://localhost/app\nKEYWARD_KEY=${envKey.key}\n`)
  write(
    'config/settings.json',
    `{\n  "service": "billing",\n  "auth": {\n    "apiKey": "${jsonKey.key}"\n  }\n}\n`,
  )
  write(
    'src/client.ts',
    `import { Client } from './sdk'\n\nexport const client = new Client({\n  baseUrl: 'https://api.example.com',\n  // TODO: move to the environment\n  timeout: 5000,\n  apiKey: '${tsKey.key}',\n})\n`,
  )
  write('deploy/values.yaml', `env:\n  - name: API_KEY\n    value: ${yamlKey.key}\n`)
  write(
    'dist/app.min.js',
    `!function(){var e={a:1};${'var x=function(t){return t*2};'.repeat(200)}var k="${minifiedKeys[0]?.key}",m='${minifiedKeys[1]?.key}';e.k=k}();\n`,
  )
  write('notes/windows.txt', `first line\r\nsecond line\r\ntoken: ${crlfKey.key}\r\nlast\r\n`)
  write(
    'docs/example.md',
    `Keys look like \`${wrongChecksum(newKey().key)}\` (this one's checksum is wrong).\n`,
  )
  write('other/acme.env', `ACME_KEY=${acmeKey.key}\n`)
  write('.git/config', `[remote]\n  token = ${hidden.key}\n`)
  write('node_modules/pkg/index.js', `module.exports = "${hidden.key}"\n`)
  write(
    'assets/logo.png',
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), Buffer.from(hidden.key)]),
  )
}, 240_000)

afterAll(() => {
  if (tree !== undefined) rmSync(tree, { recursive: true, force: true })
})

describe('keyward scan', SLOW, () => {
  it('prints file:line and the id of every key in the tree, and exits 1', async () => {
    const result = await keyward(['scan'], { cwd: tree })
    expect(result.code, result.stderr).toBe(1)
    const minifiedLine = `!function(){var e={a:1};${'var x=function(t){return t*2};'.repeat(200)}var k="`
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `.env:3:13  kw_live key ${envKey.id}`,
      `config/settings.json:4:16  kw_test key ${jsonKey.id}`,
      `deploy/values.yaml:3:12  kw_live key ${yamlKey.id}`,
      `dist/app.min.js:1:${minifiedLine.length + 1}  kw_live key ${minifiedKeys[0]?.id}`,
      `dist/app.min.js:1:${minifiedLine.length + (minifiedKeys[0]?.key.length ?? 0) + 6}  kw_live key ${minifiedKeys[1]?.id}`,
      `notes/windows.txt:3:8  kw_live key ${crlfKey.id}`,
      `src/client.ts:7:12  kw_live key ${tsKey.id}`,
    ])
    expect(result.stderr).toMatch(/^keyward: found 7 keys in 6 files \(\d+ files scanned, 1 file skipped/)
    expectNoSecrets(result.stdout + result.stderr)
  })

  it('reports the same findings as JSON, with what it skipped', async () => {
    const result = await keyward(['scan', '.', '--json'], { cwd: tree })
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout) as {
      findings: { file: string; line: number; id: string; prefix: string; environment: string }[]
      filesScanned: number
      skipped: { file: string; reason: string }[]
    }
    expect(report.findings).toHaveLength(7)
    expect(report.findings.find((finding) => finding.file === 'notes/windows.txt')).toMatchObject({
      line: 3,
      id: crlfKey.id,
      prefix: 'kw',
      environment: 'live',
    })
    expect(report.skipped).toEqual([{ file: 'assets/logo.png', reason: 'binary' }])
    expect(report.findings.map((finding) => finding.id)).not.toContain(hidden.id)
    expectNoSecrets(result.stdout + result.stderr)
  })

  it('looks for the prefixes asked for (several at once, or from KEYWARD_PREFIX)', async () => {
    const acme = await keyward(['scan', 'other', '.env', '--prefix', 'acme'], { cwd: tree })
    expect(acme.code).toBe(1)
    expect(acme.stdout).toBe(`other/acme.env:1:10  acme_live key ${acmeKey.id}\n`)
    const both = await keyward(['scan', 'other', '.env', '--prefix', 'acme', '--prefix', 'kw'], { cwd: tree })
    expect(both.stdout.trimEnd().split('\n')).toEqual([
      `other/acme.env:1:10  acme_live key ${acmeKey.id}`,
      `.env:3:13  kw_live key ${envKey.id}`,
    ])
    const fromEnv = await keyward(['scan', 'other'], { cwd: tree, env: { KEYWARD_PREFIX: 'acme' } })
    expect(fromEnv.stdout).toContain(acmeKey.id)
  })

  it('exits 0 on a clean tree: wrong checksums and other prefixes are not keys', async () => {
    const result = await keyward(['scan', 'docs', 'other'], { cwd: tree })
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toBe('keyward: no keys found in 2 files\n')
  })

  it('leaves out the files and directories given to --exclude', async () => {
    const result = await keyward(
      ['scan', '--exclude', 'dist', '--exclude', './notes/windows.txt', '--exclude', 'src/'],
      {
        cwd: tree,
      },
    )
    expect(result.code).toBe(1)
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `.env:3:13  kw_live key ${envKey.id}`,
      `config/settings.json:4:16  kw_test key ${jsonKey.id}`,
      `deploy/values.yaml:3:12  kw_live key ${yamlKey.id}`,
    ])
  })

  it('scans a path inside node_modules when it is named', async () => {
    const result = await keyward(['scan', 'node_modules/pkg/index.js'], { cwd: tree })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe(`node_modules/pkg/index.js:1:19  kw_live key ${hidden.id}\n`)
  })

  it('reads standard input for -', async () => {
    const result = await keyward(['scan', '-'], { cwd: tree, stdin: `line one\nthe key: ${tsKey.key}\n` })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe(`<stdin>:2:10  kw_live key ${tsKey.id}\n`)
    const clean = await keyward(['scan', '-'], { cwd: tree, stdin: 'nothing here\n' })
    expect(clean.code).toBe(0)
  })

  it('exits 2 for a path that does not exist or a prefix that cannot be one', async () => {
    const missing = await keyward(['scan', 'nope'], { cwd: tree })
    expect(missing).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'keyward: cannot scan "nope": no such file or directory\n',
    })
    const prefix = await keyward(['scan', '--prefix', 'Bad_Prefix'], { cwd: tree })
    expect(prefix).toMatchObject({
      code: 2,
      stderr: 'keyward: invalid --prefix "Bad_Prefix": 2–12 characters of a-z and 0-9\n',
    })
  })
})
