// The consumer smoke test (`pnpm smoke`): installs the packages the way a user would — from the
// packed tarballs, in a fresh project outside the repo — and uses them. It builds, packs every
// package, lints each tarball (publint, Are the Types Wrong), then in a temp project: `npm install`s
// all tarballs with the frameworks, imports every entry point in ESM and in CommonJS, type-checks a
// strict consumer (and the packages' README examples) under `nodenext` and `bundler`, serves an
// Express app over real HTTP (200, 401, 429), runs the installed `keyward` binary (secret, scan), and
// runs the store contract from `@keyward/core/testing` under vitest. It also checks the other install routes the README names:
// the tarballs with pnpm (with its override), and `npm install` / `pnpm add` of packages/core.
//
//   node scripts/smoke-consumer.mjs                     everything (builds first)
//     --skip-build                                      use the dist/ already built
//     --keep                                            leave the temp projects (prints where)
//     --workdir DIR                                     work in DIR (outside the repo), and leave it
//   node scripts/smoke-consumer.mjs --runtime-only DIR  only the runtime checks (imports, HTTP,
//                                                       store contract) in a kept npm project, with
//                                                       whatever `node` is first on PATH
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const PACKAGES = ['core', 'redis', 'express', 'hono', 'koa', 'admin', 'cli']
/** What each entry point must export, at runtime, in ESM and in CommonJS. */
const EXPECTED_EXPORTS = {
  '@keyward/core': ['createKeyward', 'MemoryStore', 'VerifyCode', 'ConfigError', 'parseKey'],
  '@keyward/core/adapter': ['createAuthenticator', 'toHttpResponse', 'createScopeCheck'],
  '@keyward/core/store': ['spendFrom', 'refillCredits'],
  '@keyward/core/prometheus': ['prometheusMetrics'],
  '@keyward/core/opentelemetry': ['instrument'],
  '@keyward/redis': ['RedisStore', 'KeyLayout'],
  '@keyward/express': ['apiKeyAuth', 'requireScopes'],
  '@keyward/hono': ['apiKeyAuth', 'requireScopes'],
  '@keyward/koa': ['apiKeyAuth', 'requireScopes'],
  '@keyward/admin': ['createAdmin', 'AdminScope'],
  '@keyward/cli': ['run', 'findKeys', 'scanPaths'],
}
/** `@keyward/core/testing` is ESM only: vitest, which it drives, refuses to be `require`d. */
const ESM_ONLY_EXPORTS = { '@keyward/core/testing': ['describeStoreContract', 'makeRecord', 'formatKey'] }
/** What a consumer installs beside keyward (the peers, and the tools a TypeScript user has). */
const CONSUMER_DEPENDENCIES = [
  'express@^5',
  'hono@^4',
  '@hono/node-server@^2',
  'koa@^3',
  '@koa/router@^15',
  'ioredis@^5.4.0 || ^6',
  'prom-client@^15',
  '@opentelemetry/api@^1.9',
  'vitest@^4',
]
const CONSUMER_DEV_DEPENDENCIES = ['typescript@~5.9', '@types/node@^20', '@types/express@^5', '@types/koa@^3']

const args = process.argv.slice(2)
const started = Date.now()

// The child processes run as a user's would: nothing of the repo's source condition or of the
// pnpm script that started us (npm_config_*, which would steer npm and pnpm).
const consumerEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_OPTIONS'),
)

function step(title) {
  console.log(`\n[smoke] ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
}

/** Runs a command; its output is shown only when it fails (or always, with `show`). */
function run(command, commandArgs, { cwd = root, show = false, env = consumerEnv } = {}) {
  try {
    const output = execFileSync(command, commandArgs, {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    })
    if (show && output.trim() !== '') console.log(output.trimEnd())
    return output
  } catch (error) {
    console.error(`[smoke] FAILED: ${command} ${commandArgs.join(' ')}  (in ${cwd})`)
    console.error(`${error.stdout ?? ''}${error.stderr ?? ''}`.trimEnd())
    process.exit(1)
  }
}

function write(file, text) {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
}

const bin = (name) => join(root, 'node_modules', '.bin', name)

// --- Runtime checks: the part that runs again on every Node version ------------------------------

const esmImports = (expected) => `import assert from 'node:assert/strict'
const expected = ${JSON.stringify(expected)}
for (const [specifier, names] of Object.entries(expected)) {
  const module = await import(specifier)
  for (const name of names) assert.notEqual(module[name], undefined, \`\${specifier} exports \${name}\`)
}
const { createKeyward } = await import('@keyward/core')
const keyward = createKeyward({ prefix: 'smoke' })
const { key } = await keyward.keys.create({ ownerId: 'org_1', scopes: ['orders:read'] })
assert.equal((await keyward.verify(key, { scopes: 'orders:read' })).valid, true)
assert.equal((await keyward.verify(key, { scopes: 'orders:write' })).code, 'INSUFFICIENT_SCOPE')
await keyward.close()
console.log(\`ESM: \${Object.keys(expected).length} entry points import and verify a key\`)
`

const CJS_REQUIRES = `const assert = require('node:assert/strict')
const expected = ${JSON.stringify(EXPECTED_EXPORTS)}
for (const [specifier, names] of Object.entries(expected)) {
  const module = require(specifier)
  for (const name of names) assert.notEqual(module[name], undefined, \`\${specifier} exports \${name}\`)
}
assert.throws(() => require('@keyward/core/testing'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })
const { createKeyward } = require('@keyward/core')
async function main() {
  const keyward = createKeyward({ prefix: 'smoke' })
  const { key } = await keyward.keys.create({ ownerId: 'org_1' })
  assert.equal((await keyward.verify(key)).valid, true)
  await keyward.close()
  console.log(\`CJS: \${Object.keys(expected).length} entry points require and verify a key\`)
}
main()
`

// The ~15-line app a user would write, then real HTTP against it.
const EXPRESS_APP = `import assert from 'node:assert/strict'
import { createKeyward } from '@keyward/core'
import { apiKeyAuth } from '@keyward/express'
import express from 'express'

const keyward = createKeyward({ prefix: 'smoke' })
const { key } = await keyward.keys.create({ ownerId: 'org_1', rateLimit: { points: 2, duration: 60 } })
const app = express()
app.get('/v1/me', apiKeyAuth(keyward), (req, res) => {
  res.json({ ownerId: req.apiKey?.ownerId })
})
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const url = \`http://127.0.0.1:\${server.address().port}/v1/me\`
// ----------------------------------------------------------------------------------------------
const call = (headers = {}) => fetch(url, { headers })
const bearer = { authorization: \`Bearer \${key}\` }
try {
  const missing = await call()
  assert.equal(missing.status, 401)
  assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
  const first = await call(bearer)
  assert.equal(first.status, 200)
  assert.deepEqual(await first.json(), { ownerId: 'org_1' })
  assert.match(first.headers.get('ratelimit') ?? '', /r=1/)
  assert.equal((await call(bearer)).status, 200)
  const limited = await call(bearer)
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After on 429')
  assert.equal(limited.headers.get('content-type'), 'application/problem+json')
  console.log('HTTP: Express app answers 401 without a key, 200 twice, then 429 (limit 2)')
} finally {
  server.close()
  await keyward.close()
}
`

const CONTRACT_TEST = `import { MemoryStore } from '@keyward/core'
import { describeStoreContract } from '@keyward/core/testing'

describeStoreContract('MemoryStore, installed from the tarball', async () => {
  const store = new MemoryStore()
  return { store, teardown: () => store.close() }
})
`

// The installed \`keyward\` binary: a pepper, and a scan that finds a planted key by its id without
// ever printing the key.
const CLI_CHECK = `import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyward } from '@keyward/core'

const keywardBin = join(process.cwd(), 'node_modules', '.bin', 'keyward')
const cli = (...args) => spawnSync(keywardBin, args, { encoding: 'utf8' })
const version = cli('--version')
assert.equal(version.status, 0, version.stderr)
const secret = cli('secret')
assert.equal(secret.status, 0, secret.stderr)
assert.match(secret.stdout.trim(), /^[A-Za-z0-9_-]{43}$/)
const keyward = createKeyward({ prefix: 'smoke' })
const { key, record } = await keyward.keys.create({ ownerId: 'org_1' })
await keyward.close()
const tree = mkdtempSync(join(tmpdir(), 'keyward-smoke-scan-'))
try {
  writeFileSync(join(tree, '.env'), \`API_KEY=\${key}\\n\`)
  writeFileSync(join(tree, 'clean.txt'), 'nothing to see\\n')
  const scan = cli('scan', '--prefix', 'smoke', tree)
  assert.equal(scan.status, 1, 'scan exits 1 when it finds a key')
  assert.ok(scan.stdout.includes(record.id), 'scan names the key id')
  assert.ok(!(scan.stdout + scan.stderr).includes(key), 'scan never prints the key')
  assert.equal(cli('scan', '--prefix', 'smoke', join(tree, 'clean.txt')).status, 0)
} finally {
  rmSync(tree, { recursive: true, force: true })
}
console.log(\`CLI: keyward \${version.stdout.trim()} prints a pepper, and scan finds a planted key by its id\`)
`

function writeRuntimeChecks(project) {
  write(join(project, 'checks', 'esm.mjs'), esmImports({ ...EXPECTED_EXPORTS, ...ESM_ONLY_EXPORTS }))
  write(join(project, 'checks', 'cjs.cjs'), CJS_REQUIRES)
  write(join(project, 'checks', 'express-app.mjs'), EXPRESS_APP)
  write(join(project, 'checks', 'cli.mjs'), CLI_CHECK)
  write(join(project, 'checks', 'store-contract.test.mjs'), CONTRACT_TEST)
}

function runtimeChecks(project) {
  const node = run('node', ['--version']).trim()
  step(`runtime checks on Node ${node} in ${project}`)
  run('node', ['checks/esm.mjs'], { cwd: project, show: true })
  run('node', ['checks/cjs.cjs'], { cwd: project, show: true })
  run('node', ['checks/express-app.mjs'], { cwd: project, show: true })
  run('node', ['checks/cli.mjs'], { cwd: project, show: true })
  const contract = run(
    join(project, 'node_modules', '.bin', 'vitest'),
    ['run', '--reporter=dot', 'checks/'],
    {
      cwd: project,
    },
  )
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours from vitest's summary
  const plain = contract.replace(/\u001b\[[0-9;]*m/g, '')
  const summary = plain.split('\n').find((line) => /^\s*Tests\s/.test(line)) ?? ''
  console.log(`store contract from @keyward/core/testing under vitest: ${summary.trim()}`)
}

/** Only the imports (ESM and CJS): for the other install routes (without vitest, so no /testing). */
function importChecks(project, label) {
  write(join(project, 'checks', 'esm.mjs'), esmImports(EXPECTED_EXPORTS))
  write(join(project, 'checks', 'cjs.cjs'), CJS_REQUIRES)
  const esm = run('node', ['checks/esm.mjs'], { cwd: project })
  const cjs = run('node', ['checks/cjs.cjs'], { cwd: project })
  console.log(`${label}: ${esm.trim()}; ${cjs.trim()}`)
}

// --- Type-checking: a strict consumer and the README examples ------------------------------------

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  skipLibCheck: true,
  target: 'ES2022',
  lib: ['ES2023', 'DOM'],
  types: ['node'],
}

const CONSUMER_ESM = `import { createKeyward, MemoryStore, type VerifyCode, type VerifyResult } from '@keyward/core'
import { createAuthenticator, toHttpResponse } from '@keyward/core/adapter'
import type { KeyStore } from '@keyward/core/store'
import { describeStoreContract } from '@keyward/core/testing'
import { apiKeyAuth as expressAuth, requireScopes } from '@keyward/express'
import { apiKeyAuth as honoAuth, type Variables } from '@keyward/hono'
import { apiKeyAuth as koaAuth, type KeywardState } from '@keyward/koa'
import { RedisStore } from '@keyward/redis'
import express from 'express'
import { Hono } from 'hono'
import { Cluster, Redis } from 'ioredis'
import Koa from 'koa'

const store: KeyStore = new MemoryStore()
const keyward = createKeyward({ prefix: 'acme', store, rateLimit: { points: 100, duration: 60 } })
const { key, record } = await keyward.keys.create({ ownerId: 'org_42', scopes: ['orders:read'] })
const result: VerifyResult = await keyward.verify(key, { scopes: { anyOf: ['orders:read', 'admin'] } })
if (result.valid) {
  const ownerId: string = result.key.ownerId
  console.log(ownerId, record.id)
} else {
  const code: VerifyCode = result.code
  console.log(code)
}

const app = express()
app.get('/v1/orders', expressAuth(keyward), requireScopes('orders:read'), (req, res) => {
  const owner: string | undefined = req.apiKey?.ownerId
  res.json({ owner })
})

const hono = new Hono<{ Variables: Variables }>()
hono.get('/v1/orders', honoAuth(keyward), (c) => c.json({ owner: c.get('apiKey').ownerId }))

const koa = new Koa<KeywardState>()
koa.use(koaAuth(keyward)).use((ctx) => {
  ctx.body = { owner: ctx.state.apiKey?.ownerId }
})

const authenticate = createAuthenticator(keyward)
console.log(typeof authenticate, typeof toHttpResponse)

new RedisStore({ client: new Redis({ lazyConnect: true }), keyPrefix: 'kw:' })
new RedisStore({ client: new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }) })
describeStoreContract('typed', async () => ({ store, teardown: async () => {} }))

// @ts-expect-error the prefix is a string
createKeyward({ prefix: 42 })
// @ts-expect-error a VerifyCode is one of the documented codes
const wrong: VerifyCode = 'NOPE'
console.log(wrong)
`

const CONSUMER_CJS = `import { createKeyward, type VerifyResult } from '@keyward/core'
import { createAuthenticator } from '@keyward/core/adapter'
import { apiKeyAuth } from '@keyward/express'
import { RedisStore } from '@keyward/redis'
import express = require('express')

const keyward = createKeyward({ prefix: 'acme' })
export async function check(token: string): Promise<boolean> {
  const result: VerifyResult = await keyward.verify(token)
  return result.valid
}
express().use(apiKeyAuth(keyward))
console.log(typeof createAuthenticator, typeof RedisStore)
`

/** The \`\`\`ts blocks of a README, as the tarball ships it. */
function readmeExamples(project, name) {
  const readme = readFileSync(join(project, 'node_modules', '@keyward', name, 'README.md'), 'utf8')
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
}

function typeChecks(project) {
  step('type-checking a strict consumer and the README examples')
  const esmFiles = ['src/consumer.mts']
  write(join(project, 'src', 'consumer.mts'), CONSUMER_ESM)
  write(join(project, 'src', 'consumer.cts'), CONSUMER_CJS)
  for (const name of PACKAGES) {
    readmeExamples(project, name).forEach((example, index) => {
      const file = `src/readme-${name}-${index}.mts`
      // Each example is a module of its own (top-level await, its own imports).
      write(join(project, file), `${example}\nexport {}\n`)
      esmFiles.push(file)
    })
  }
  // Our own declaration files, checked as code (skipLibCheck off) — except koa's: with it, tsc also
  // checks @types/koa, which today references a type content-disposition no longer exports.
  const declarations = readdirSync(join(project, 'node_modules', '@keyward'))
    .filter((name) => name !== 'koa')
    .flatMap((name) =>
      readdirSync(join(project, 'node_modules', '@keyward', name, 'dist'))
        .filter((file) =>
          /^(index|adapter|store|prometheus|opentelemetry)\.d\.[cm]ts$|^testing\.d\.mts$/.test(file),
        )
        .map((file) => `node_modules/@keyward/${name}/dist/${file}`),
    )
  const configs = {
    'tsconfig.declarations.json': {
      compilerOptions: { ...STRICT, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext' },
      files: declarations,
    },
    'tsconfig.nodenext.json': {
      compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' },
      files: [...esmFiles, 'src/consumer.cts'],
    },
    'tsconfig.bundler-preserve.json': {
      compilerOptions: { ...STRICT, module: 'preserve', moduleResolution: 'bundler' },
      files: esmFiles,
    },
  }
  for (const [file, config] of Object.entries(configs)) {
    write(join(project, file), `${JSON.stringify(config, null, 2)}\n`)
    run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', file], { cwd: project })
    const { module, moduleResolution } = config.compilerOptions
    console.log(`tsc ${file}: clean (module ${module}, moduleResolution ${moduleResolution})`)
  }
  console.log(
    `type-checked: ${declarations.length} declaration files, consumer.mts, consumer.cts, ${esmFiles.length - 1} README examples`,
  )
}

// --- The tarballs --------------------------------------------------------------------------------

function packAll(directory) {
  step('packing every package with pnpm pack')
  for (const name of PACKAGES) {
    run('pnpm', ['pack', '--pack-destination', directory], { cwd: join(root, 'packages', name) })
  }
  const tarballs = Object.fromEntries(
    PACKAGES.map((name) => [name, join(directory, `keyward-${name}-0.1.0.tgz`)]),
  )
  for (const name of PACKAGES) {
    const files = run('tar', ['tzf', tarballs[name]]).split('\n').filter(Boolean)
    const manifest = JSON.parse(run('tar', ['xzf', tarballs[name], '-O', 'package/package.json']))
    const problems = []
    for (const needed of [
      'package/LICENSE',
      'package/README.md',
      'package/dist/index.mjs',
      'package/dist/index.cjs',
    ]) {
      if (!files.includes(needed)) problems.push(`missing ${needed}`)
    }
    const strays = files.filter(
      (file) => !/^package\/(dist\/|LICENSE$|README\.md$|package\.json$)/.test(file),
    )
    if (strays.length > 0) problems.push(`unexpected files: ${strays.join(', ')}`)
    const coreRange = manifest.dependencies?.['@keyward/core']
    if (coreRange !== undefined && coreRange !== `^${manifest.version}`) {
      problems.push(`@keyward/core range is ${coreRange}, expected ^${manifest.version}`)
    }
    if (problems.length > 0) {
      console.error(`[smoke] ${name} tarball: ${problems.join('; ')}`)
      process.exit(1)
    }
    console.log(`${name}: ${files.length} files (LICENSE, README, dist), @keyward/core ${coreRange ?? '—'}`)
  }
  return tarballs
}

function lintTarballs(tarballs) {
  step('publint and Are the Types Wrong on every tarball')
  for (const name of PACKAGES) {
    run(bin('publint'), ['run', tarballs[name], '--strict'])
    if (name === 'core') {
      run(bin('attw'), [tarballs[name], '--format', 'ascii', '--exclude-entrypoints', './testing'])
      // `./testing` is ESM only on purpose (vitest refuses `require`), so there is no CommonJS or
      // node10 resolution to find: the esm-only profile skips exactly those two checks for it.
      run(bin('attw'), [
        tarballs[name],
        '--format',
        'ascii',
        '--entrypoints',
        './testing',
        '--profile',
        'esm-only',
      ])
    } else {
      run(bin('attw'), [tarballs[name], '--format', 'ascii'])
    }
    console.log(`${name}: publint --strict clean, attw clean`)
  }
}

// --- The install routes --------------------------------------------------------------------------

/** 'express@^5' → ['express', '^5'], '@types/node@^20' → ['@types/node', '^20']. */
const splitSpec = (spec) => {
  const at = spec.lastIndexOf('@')
  return [spec.slice(0, at), spec.slice(at + 1)]
}

function npmTarballProject(directory, tarballs) {
  step('npm install of all tarballs into a fresh project')
  const project = join(directory, 'npm-tarballs')
  write(
    join(project, 'package.json'),
    '{ "name": "keyward-smoke-consumer", "private": true, "type": "module" }\n',
  )
  // Exactly the README's command: the tarballs, then what the app needs, in one `npm install`. No
  // override: npm sees that the @keyward/core tarball satisfies the adapters' "^0.1.0".
  const specs = [
    ...PACKAGES.map((name) => tarballs[name]),
    ...CONSUMER_DEPENDENCIES,
    ...CONSUMER_DEV_DEPENDENCIES,
  ]
  run('npm', ['install', '--no-audit', '--no-fund', ...specs], { cwd: project })
  const tree = run('npm', ['ls', '@keyward/core', '--all', '--parseable'], { cwd: project })
  const copies = new Set(tree.split('\n').filter((line) => line.endsWith(join('@keyward', 'core'))))
  if (copies.size !== 1) {
    console.error(`[smoke] expected one @keyward/core in the tree, found:\n${[...copies].join('\n')}`)
    process.exit(1)
  }
  const ioredis = JSON.parse(readFileSync(join(project, 'node_modules', 'ioredis', 'package.json'), 'utf8'))
  console.log(`installed: one @keyward/core shared by every adapter; ioredis ${ioredis.version}`)
  return project
}

function pnpmTarballProject(directory, tarballs) {
  step('pnpm install of all tarballs (with the overrides the ^0.1.0 ranges need)')
  const project = join(directory, 'pnpm-tarballs')
  const dependencies = Object.fromEntries([
    ...PACKAGES.map((name) => [`@keyward/${name}`, `file:${tarballs[name]}`]),
    ...CONSUMER_DEPENDENCIES.filter((spec) => !spec.startsWith('vitest@')).map(splitSpec),
  ])
  write(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'keyward-smoke-pnpm', private: true, dependencies }, null, 2)}\n`,
  )
  // pnpm resolves the packages' own "@keyward/…": "^0.1.0" dependencies (core for every adapter,
  // hono for admin) from the registry unless told otherwise: point each one at its tarball.
  const overrides = PACKAGES.map((name) => `  "@keyward/${name}": "file:${tarballs[name]}"\n`).join('')
  write(join(project, 'pnpm-workspace.yaml'), `overrides:\n${overrides}`)
  run('pnpm', ['install', '--no-frozen-lockfile'], { cwd: project })
  importChecks(project, 'pnpm, tarballs')
}

function directoryProjects(directory) {
  step('installing packages/core straight from the repo: npm install <dir>, pnpm add file:<dir>')
  const core = join(root, 'packages', 'core')
  const npmProject = join(directory, 'npm-directory')
  write(join(npmProject, 'package.json'), '{ "name": "keyward-smoke-npm-dir", "private": true }\n')
  run('npm', ['install', '--no-audit', '--no-fund', core], { cwd: npmProject })
  coreOnlyChecks(npmProject, 'npm install packages/core')
  const pnpmProject = join(directory, 'pnpm-directory')
  write(join(pnpmProject, 'package.json'), '{ "name": "keyward-smoke-pnpm-dir", "private": true }\n')
  run('pnpm', ['add', `file:${core}`], { cwd: pnpmProject })
  coreOnlyChecks(pnpmProject, 'pnpm add file:packages/core')
}

function coreOnlyChecks(project, label) {
  const esm = `import { createKeyward } from '@keyward/core'
import { createAuthenticator } from '@keyward/core/adapter'
const keyward = createKeyward({ prefix: 'smoke' })
const { key } = await keyward.keys.create({ ownerId: 'org_1' })
if (!(await keyward.verify(key)).valid || typeof createAuthenticator !== 'function') process.exit(1)
await keyward.close()
`
  const cjs = `const { createKeyward } = require('@keyward/core')
const { spendFrom } = require('@keyward/core/store')
const keyward = createKeyward({ prefix: 'smoke' })
keyward.keys.create({ ownerId: 'org_1' }).then(async ({ key }) => {
  if (!(await keyward.verify(key)).valid || typeof spendFrom !== 'function') process.exit(1)
  await keyward.close()
})
`
  write(join(project, 'check.mjs'), esm)
  write(join(project, 'check.cjs'), cjs)
  run('node', ['check.mjs'], { cwd: project })
  run('node', ['check.cjs'], { cwd: project })
  console.log(`${label}: ESM import and CJS require verify a key`)
}

// --- Main ----------------------------------------------------------------------------------------

if (args[0] === '--runtime-only') {
  const project = args[1]
  if (project === undefined) throw new Error('usage: smoke-consumer.mjs --runtime-only <kept npm project>')
  runtimeChecks(resolve(project))
  console.log(`\n[smoke] runtime checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  process.exit(0)
}

const workdirAt = args.indexOf('--workdir')
const workdir = workdirAt === -1 ? undefined : args[workdirAt + 1]
if (workdirAt !== -1 && (workdir === undefined || resolve(workdir).startsWith(`${root}/`))) {
  throw new Error('--workdir needs a directory outside the repo')
}
const keep = args.includes('--keep') || workdir !== undefined
if (!args.includes('--skip-build')) {
  step('building every package (pnpm build)')
  run('pnpm', ['build'], { env: process.env })
}
const directory = workdir === undefined ? mkdtempSync(join(tmpdir(), 'keyward-smoke-')) : resolve(workdir)
mkdirSync(directory, { recursive: true })
try {
  const tarballs = packAll(join(directory, 'tarballs'))
  lintTarballs(tarballs)
  const project = npmTarballProject(directory, tarballs)
  writeRuntimeChecks(project)
  runtimeChecks(project)
  typeChecks(project)
  pnpmTarballProject(directory, tarballs)
  directoryProjects(directory)
  console.log(`\n[smoke] all consumer checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  if (keep) console.log(`[smoke] kept: ${directory} (npm project: ${project})`)
} finally {
  if (!keep) rmSync(directory, { recursive: true, force: true })
}
