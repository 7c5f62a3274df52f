import { describe, expect, it } from 'vitest'
import { ConfigError, KeywardError, KeywardErrorCode } from './errors.ts'
import { createKeyward, type KeywardOptions } from './index.ts'
import { MemoryStore } from './store/memory-store.ts'

const SECRET = 'k'.repeat(32)

/** A store that says it is shared between processes, as RedisStore does. */
class SharedMemoryStore extends MemoryStore {
  override readonly shared = true as never
}

function configErrorOf(options: unknown): ConfigError {
  try {
    createKeyward(options as KeywardOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('createKeyward options', () => {
  it('works with no options at all, and with options left undefined (e.g. unset env vars)', () => {
    expect(createKeyward()).toMatchObject({ prefix: 'kw', environment: 'live' })
    expect(
      createKeyward({ prefix: undefined, environment: undefined, secret: undefined, store: undefined }),
    ).toMatchObject({ prefix: 'kw', environment: 'live' })
  })

  it.each<[string, unknown]>([
    ['options', null],
    ['options', 'kw'],
    ['prefix', { prefix: 'A' }],
    ['prefix', { prefix: 'has_underscore' }],
    ['prefix', { prefix: 'toolongprefix' }],
    ['prefix', { prefix: 42 }],
    ['environment', { environment: 'prod' }],
    ['environment', { environment: 'LIVE' }],
    ['secret', { secret: 'too-short' }],
    ['secret', { secret: 'x'.repeat(31) }],
    ['secret', { secret: 42 }],
    ['secret', { secret: SECRET, secrets: [{ version: 1, value: SECRET }] }],
    ['secrets', { secrets: [] }],
    ['secrets', { secrets: SECRET }],
    [
      'secrets[1].version',
      {
        secrets: [
          { version: 1, value: SECRET },
          { version: 1, value: 'v'.repeat(32) },
        ],
      },
    ],
    ['secrets[0].version', { secrets: [{ version: 0, value: SECRET }] }],
    ['secrets[0].version', { secrets: [{ version: 1.5, value: SECRET }] }],
    ['secrets[0].version', { secrets: [null] }],
    [
      'secrets[1].value',
      {
        secrets: [
          { version: 1, value: SECRET },
          { version: 2, value: 'short' },
        ],
      },
    ],
    ['store', { store: {} }],
    ['store', { store: 'redis://localhost' }],
    ['store', { store: { get: 'nope' } }],
    ['secret', { store: new SharedMemoryStore() }],
    ['rateLimit.points', { rateLimit: { points: 0, duration: 60 } }],
    ['rateLimit.points', { rateLimit: { points: '100', duration: 60 } }],
    ['rateLimit.duration', { rateLimit: { points: 100, duration: -1 } }],
    ['rateLimit.blockDuration', { rateLimit: { points: 100, duration: 1, blockDuration: 0.5 } }],
    [
      'rateLimit[1].name',
      {
        rateLimit: [
          { points: 1, duration: 1, name: 'a' },
          { points: 2, duration: 1, name: 'a' },
        ],
      },
    ],
    ['rateLimit', { rateLimit: [] }],
    ['now', { now: 1234 }],
    ['random', { random: 'crypto' }],
    ['unavailableRetryAfterMs', { unavailableRetryAfterMs: -1 }],
    ['unavailableRetryAfterMs', { unavailableRetryAfterMs: 1.5 }],
  ])('throws a ConfigError naming `%s`', (option, options) => {
    const error = configErrorOf(options)
    expect(error.option).toBe(option)
    expect(error.message).toContain(`\`${option}\``)
    expect(error).toBeInstanceOf(KeywardError)
    expect(error.code).toBe(KeywardErrorCode.CONFIG)
    expect(error.name).toBe('ConfigError')
  })

  it('explains how to fix a shared store without a pepper', () => {
    const error = configErrorOf({ store: new SharedMemoryStore() })
    expect(error.message).toMatch(/shared store/)
    expect(error.message).toMatch(/KEYWARD_SECRET|openssl/)
  })

  it('accepts a shared store with a secret or versioned secrets', () => {
    expect(() => createKeyward({ store: new SharedMemoryStore(), secret: SECRET })).not.toThrow()
    expect(() =>
      createKeyward({ store: new SharedMemoryStore(), secrets: [{ version: 3, value: SECRET }] }),
    ).not.toThrow()
  })

  it('never puts the secret into a ConfigError message', () => {
    const short = 'sup3r-s3cret-but-short'
    expect(configErrorOf({ secret: short }).message).not.toContain(short)
    expect(configErrorOf({ secrets: [{ version: 1, value: short }] }).message).not.toContain(short)
  })

  it('accepts the documented valid values', () => {
    const keyward = createKeyward({
      prefix: 'acme',
      environment: 'test',
      secret: SECRET,
      store: new MemoryStore(),
      rateLimit: [
        { points: 100, duration: 60 },
        { points: 1000, duration: 3600, name: 'hourly', blockDuration: 60 },
      ],
      now: () => 0,
      random: (size) => new Uint8Array(size).fill(7),
      unavailableRetryAfterMs: 0,
    })
    expect(keyward.prefix).toBe('acme')
    expect(keyward.environment).toBe('test')
    expect(keyward.now()).toBe(0)
  })

  it('exposes the injected clock as keyward.now()', () => {
    let time = 5
    const keyward = createKeyward({ now: () => time })
    time = 10
    expect(keyward.now()).toBe(10)
  })
})
