import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../test/support/core-fixtures.ts'
import { type KeyLifecycleEvent, KeywardEmitter, type VerificationEvent } from './events.ts'
import { createKeyward, type KeywardOptions } from './index.ts'
import { formatKey, parseKey, randomBase62 } from './key-format.ts'
import { MemoryStore } from './store/memory-store.ts'
import type { StoredKey } from './types.ts'

function setup(options: KeywardOptions = {}) {
  const { keyward, clock } = keywardWithClock(options)
  const verifications: VerificationEvent[] = []
  keyward.events.on('verification', (event) => verifications.push(event))
  return { keyward, clock, verifications }
}

describe('verification events', () => {
  it('reports a success with key id, owner, cost and the injected time', async () => {
    const { keyward, clock, verifications } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'org', credits: { remaining: 10 } })
    clock.advance(1234)
    await keyward.verify(key, { cost: 3 })
    expect(verifications).toEqual([
      {
        type: 'verification',
        valid: true,
        code: 'VALID',
        keyId: record.id,
        ownerId: 'org',
        cost: 3,
        timestamp: START + 1234,
      },
    ])
  })

  it('reports every failure with its code, spending nothing', async () => {
    const { keyward, verifications } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'org', scopes: ['a'] })
    await keyward.verify(undefined)
    await keyward.verify('garbage')
    await keyward.verify(key, { scopes: 'b' })
    await keyward.keys.revoke(record.id)
    await keyward.verify(key)
    expect(
      verifications.map(({ code, keyId, ownerId, valid, cost }) => ({ code, keyId, ownerId, valid, cost })),
    ).toEqual([
      { code: 'MISSING', keyId: null, ownerId: null, valid: false, cost: 0 },
      { code: 'MALFORMED', keyId: null, ownerId: null, valid: false, cost: 0 },
      { code: 'INSUFFICIENT_SCOPE', keyId: record.id, ownerId: 'org', valid: false, cost: 0 },
      { code: 'REVOKED', keyId: record.id, ownerId: 'org', valid: false, cost: 0 },
    ])
    expect(verifications.every((event) => event.timestamp === START)).toBe(true)
  })

  it('gives the same event for an unknown id and for a known id with a wrong secret (owner not revealed)', async () => {
    const { keyward, verifications } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'org' })
    const parsed = parseKey(key)!
    await keyward.verify(formatKey('acme', 'live', parsed.id, randomBase62(32)))
    expect(verifications).toEqual([
      {
        type: 'verification',
        valid: false,
        code: 'NOT_FOUND',
        keyId: record.id,
        ownerId: null,
        cost: 0,
        timestamp: START,
      },
    ])
  })

  it('reports UNAVAILABLE when the store fails', async () => {
    class Down extends MemoryStore {
      override peek(): undefined {
        return undefined
      }

      override async get(): Promise<StoredKey | null> {
        throw new Error('down')
      }
    }
    const { keyward, verifications } = setup({ store: new Down() })
    const token = formatKey('acme', 'live', randomBase62(12), randomBase62(32))
    await keyward.verify(token)
    expect(verifications).toMatchObject([{ code: 'UNAVAILABLE', keyId: parseKey(token)?.id, valid: false }])
  })

  it('never carries the token, its secret or its hash', async () => {
    const { keyward, verifications } = setup()
    const { key, record } = await keyward.keys.create({ ownerId: 'org', scopes: ['a'] })
    const secret = parseKey(key)?.secret as string
    const wrong = formatKey('acme', 'live', record.id, randomBase62(32))
    for (const token of [key, `${key.slice(0, -1)}0`, wrong, `${key}x`]) {
      await keyward.verify(token)
      await keyward.verify(token, { scopes: 'b' })
    }
    const json = JSON.stringify(verifications)
    const hash = (await keyward.store.get(record.id))?.hash as string
    expect(verifications.length).toBe(8)
    for (const needle of [key, secret, secret.slice(0, 16), wrong, parseKey(wrong)?.secret as string, hash]) {
      expect(json).not.toContain(needle)
    }
  })

  it('builds no event when nobody listens, and stops when unsubscribed', async () => {
    const keyward = createKeyward()
    const seen: VerificationEvent[] = []
    const off = keyward.events.on('verification', (event) => seen.push(event))
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    await keyward.verify(key)
    off()
    await keyward.verify(key)
    expect(seen).toHaveLength(1)
    expect(keyward.events.has('verification')).toBe(false)
  })
})

describe('lifecycle events', () => {
  it('emits created, updated, rotated and revoked in order, with public records only', async () => {
    const { keyward, clock } = setup()
    const events: KeyLifecycleEvent[] = []
    for (const name of ['key.created', 'key.updated', 'key.revoked', 'key.rotated'] as const) {
      keyward.events.on(name, (event) => events.push(event))
    }
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    clock.advance(1)
    await keyward.keys.update(record.id, { name: 'renamed' })
    clock.advance(1)
    const rotated = await keyward.keys.rotate(record.id, { gracePeriodMs: 1000 })
    clock.advance(1)
    await keyward.keys.revoke(rotated.record.id)
    expect(events.map((event) => [event.type, event.key.id, event.timestamp])).toEqual([
      ['key.created', record.id, START],
      ['key.updated', record.id, START + 1],
      ['key.rotated', record.id, START + 2],
      ['key.revoked', rotated.record.id, START + 3],
    ])
    expect(events[1]?.key.name).toBe('renamed')
    expect(events[2]?.successor?.id).toBe(rotated.record.id)
    const json = JSON.stringify(events)
    expect(json).not.toContain(parseKey(key)?.secret)
    expect(json).not.toContain(parseKey(rotated.key)?.secret)
    expect(json).not.toContain('"hash"')
  })
})

describe('listener isolation', () => {
  it('a throwing listener breaks neither verify nor key management, and is reported as `error`', async () => {
    const keyward = createKeyward()
    const errors: { error: unknown; event: string }[] = []
    const later: string[] = []
    keyward.events.on('error', (event) => errors.push(event))
    for (const name of ['verification', 'key.created', 'key.revoked'] as const) {
      keyward.events.on(name, () => {
        throw new Error(`listener for ${name} failed`)
      })
      keyward.events.on(name, (event) => later.push(event.type))
    }
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.keys.revoke(record.id)
    expect(await keyward.verify(key)).toMatchObject({ code: 'REVOKED' })
    expect(errors.map((entry) => entry.event)).toEqual([
      'key.created',
      'verification',
      'key.revoked',
      'verification',
    ])
    expect(errors[0]?.error).toMatchObject({ message: 'listener for key.created failed' })
    // listeners after the throwing one still ran
    expect(later).toEqual(['key.created', 'verification', 'key.revoked', 'verification'])
  })

  it('a throwing listener without an `error` listener is swallowed', async () => {
    const keyward = createKeyward()
    keyward.events.on('verification', () => {
      throw new Error('boom')
    })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect((await keyward.verify(key)).valid).toBe(true)
  })

  it('a throwing `error` listener does not recurse', () => {
    const emitter = new KeywardEmitter()
    let calls = 0
    emitter.on('error', () => {
      calls++
      throw new Error('error listener failed')
    })
    emitter.on('verification', () => {
      throw new Error('first')
    })
    expect(() =>
      emitter.emit('verification', {
        type: 'verification',
        valid: true,
        code: 'VALID',
        keyId: null,
        ownerId: null,
        cost: 0,
        timestamp: 0,
      }),
    ).not.toThrow()
    expect(calls).toBe(1)
  })

  it('an async listener that rejects neither fails the request nor leaves an unhandled rejection', async () => {
    const keyward = createKeyward()
    const errors: unknown[] = []
    keyward.events.on('error', ({ error }) => errors.push(error))
    keyward.events.on('verification', async () => {
      throw new Error('async listener failed')
    })
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect((await keyward.verify(key)).valid).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe('async listener failed')
  })
})

describe('KeywardEmitter', () => {
  it('once fires a single time', () => {
    const emitter = new KeywardEmitter()
    const seen: number[] = []
    emitter.once('key.created', (event) => seen.push(event.timestamp))
    const event = { type: 'key.created', key: {} as never, timestamp: 1, actor: null, reason: null } as const
    emitter.emit('key.created', event)
    emitter.emit('key.created', { ...event, timestamp: 2 })
    expect(seen).toEqual([1])
  })

  it('close() removes every listener', async () => {
    const keyward = createKeyward()
    keyward.events.on('verification', () => {})
    await keyward.close()
    expect(keyward.events.has('verification')).toBe(false)
    await keyward.close() // idempotent
  })
})
