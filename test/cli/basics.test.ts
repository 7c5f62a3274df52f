/**
 * The built binary's shape and its commands that need no backend: it runs through its shebang,
 * `--version` and `--help` exit 0, a bare `keyward` shows usage and exits 2, and `keyward secret`
 * prints a fresh pepper that `createKeyward` accepts for a shared store.
 */
import { accessSync, constants, readFileSync } from 'node:fs'
import { createKeyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '../support/ioredis.ts'
import { CLI_BIN, ensureCliBuilt, keyward, keywardJson } from './cli-binary.ts'

const SLOW = { timeout: 120_000 }

beforeAll(async () => {
  await ensureCliBuilt()
}, 240_000)

describe('the keyward binary', SLOW, () => {
  it('is an executable file with a node shebang, named by the package bin', () => {
    const packageJson = JSON.parse(
      readFileSync(new URL('../../packages/cli/package.json', import.meta.url), 'utf8'),
    )
    expect(packageJson.bin).toEqual({ keyward: './dist/bin.mjs' })
    expect(readFileSync(CLI_BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    accessSync(CLI_BIN, constants.X_OK)
  })

  it('prints its version and its help with exit code 0', async () => {
    const version = await keyward(['--version'])
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n', stderr: '' })
    const help = await keyward(['--help'])
    expect(help.code).toBe(0)
    for (const command of ['keys', 'owners', 'usage', 'secret', 'scan'])
      expect(help.stdout).toContain(command)
    expect(help.stdout).toContain('Exit codes:')
    const create = await keyward(['keys', 'create', '--help'])
    expect(create.stdout).toContain('--rate <points/window>')
    expect(create.stdout).toMatch(/env:\s+KEYWARD_REDIS_URL/)
  })

  it('shows usage on stderr and exits 2 when no command is given', async () => {
    const bare = await keyward([])
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toContain('Usage: keyward')
    expect((await keyward(['keys'])).code).toBe(2)
  })
})

describe('keyward secret', SLOW, () => {
  it('prints a fresh 32-byte base64url pepper and nothing else', async () => {
    const [first, second] = await Promise.all([keyward(['secret']), keyward(['secret'])])
    expect(first?.code).toBe(0)
    expect(first?.stderr).toBe('')
    expect(first?.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/)
    expect(Buffer.from(first?.stdout.trim() ?? '', 'base64url')).toHaveLength(32)
    expect(second?.stdout).not.toBe(first?.stdout)
    const json = await keywardJson<{ secret: string }>(['secret'])
    expect(json.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('prints a value createKeyward accepts as the pepper of a shared store', async () => {
    const secret = (await keyward(['secret'])).stdout.trim()
    const client = new Redis({ lazyConnect: true })
    client.on('error', () => {})
    const keyward_ = createKeyward({ secret, store: new RedisStore({ client }) })
    await keyward_.close()
    client.disconnect()
    expect(() => createKeyward({ secret: secret.slice(0, 31), store: new RedisStore({ client }) })).toThrow(
      /secret/,
    )
  })
})
