import { describe, expect, it } from 'vitest'
import { keywardWithClock, START } from '../../../../test/support/core-fixtures.ts'
import { ConfigError, InvalidArgumentError, StoreError } from '../errors.ts'
import type { KeyLifecycleEvent, VerificationEvent } from '../events.ts'
import { createAuthenticator } from '../http/authenticator.ts'
import type { KeywardOptions } from '../index.ts'
import { formatKey, parseKey, randomBase62 } from '../key-format.ts'
import { MemoryStore } from '../store/memory-store.ts'
import type { AbuseEvent } from './abuse-model.ts'
import { clientNetworkOf } from './abuse-observations.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

function withOtherSecret(key: string): string {
  const parsed = parseKey(key)!
  return formatKey(parsed.prefix, parsed.environment, parsed.id, randomBase62(32))
}

function unknownKey(key: string): string {
  const parsed = parseKey(key)!
  return formatKey(parsed.prefix, parsed.environment, randomBase62(12), randomBase62(32))
}

/** A keyward on a test clock, its `abuse` events collected. */
async function monitored(options: KeywardOptions = {}) {
  const { keyward, clock } = keywardWithClock(options)
  const events: AbuseEvent[] = []
  keyward.events.on('abuse', (event) => events.push(event))
  const { key, record } = await keyward.keys.create({ ownerId: 'org_a', scopes: ['orders:read'] })
  return { keyward, clock, events, key, record }
}

describe('abuse: wrong-secret', () => {
  const options: KeywardOptions = { abuse: { wrongSecret: { threshold: 5, windowMs: HOUR } } }

  it('fires when a known id is presented with a wrong secret threshold times in a window', async () => {
    const { keyward, events, key, record } = await monitored(options)
    for (let i = 0; i < 5; i++) await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    expect(events).toEqual([
      {
        type: 'abuse',
        kind: 'wrong-secret',
        keyId: record.id,
        ownerId: 'org_a',
        attempts: 5,
        threshold: 5,
        windowStart: START,
        windowMs: HOUR,
        quarantined: false,
        timestamp: START,
      },
    ])
    await keyward.close()
  })

  it('stays quiet one attempt under the threshold, and for unknown ids or right secrets', async () => {
    const { keyward, events, key } = await monitored(options)
    for (let i = 0; i < 4; i++) await keyward.verify(withOtherSecret(key))
    for (let i = 0; i < 10; i++) await keyward.verify(unknownKey(key))
    for (let i = 0; i < 10; i++) await keyward.verify(key)
    await keyward.abuse.flush()
    expect(events).toEqual([])
    await keyward.close()
  })

  it('fires once per key and window: a second burst in the window is quiet, the next window fires again', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    for (let i = 0; i < 5; i++) await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    for (let i = 0; i < 20; i++) await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    clock.advance(HOUR - 1)
    for (let i = 0; i < 5; i++) await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    expect(events).toHaveLength(1)
    clock.advance(1)
    for (let i = 0; i < 5; i++) await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    expect(events.map((event) => event.windowStart)).toEqual([START, START + HOUR])
    await keyward.close()
  })

  /**
   * A wrong secret and an unknown id, through the HTTP layer and through `verify`: the answers, the
   * `verification` events (ids named by role) and the usage totals of the key, its owner and the
   * installation.
   */
  async function wrongAndUnknown(abuse: NonNullable<KeywardOptions['abuse']>) {
    const { keyward, key, record } = await monitored({ abuse })
    const seen: VerificationEvent[] = []
    keyward.events.on('verification', (event) => seen.push(event))
    const authenticator = createAuthenticator(keyward, { bruteForce: false })
    const request = (token: string) =>
      authenticator.authenticate({
        getHeader: (name) => (name === 'x-api-key' ? token : undefined),
        getQuery: () => undefined,
        clientAddress: undefined,
      })
    const [wrong, unknown] = [withOtherSecret(key), unknownKey(key)]
    const answers = {
      http: [await request(wrong), await request(unknown)],
      verify: [await keyward.verify(wrong), await keyward.verify(unknown)],
    }
    const role = (keyId: string | null) => (keyId === record.id ? 'the key' : 'an unknown id')
    const events = seen.map((event) => ({ ...event, keyId: role(event.keyId) }))
    const range = { from: new Date(START), to: new Date(START + MINUTE) }
    const usage = {
      key: (await keyward.usage.get({ keyId: record.id }, range)).totals,
      owner: (await keyward.usage.get({ ownerId: 'org_a' }, range)).totals,
      installation: (await keyward.usage.get({ installation: true }, range)).totals,
    }
    await keyward.close()
    return { answers, events, usage }
  }

  it('changes nothing a client, a listener or usage sees: a wrong secret answers like an unknown id', async () => {
    const monitoring = await wrongAndUnknown(options.abuse ?? {})
    // The same id with a wrong secret, and an id that does not exist: one answer.
    expect(monitoring.answers.http[0]).toEqual(monitoring.answers.http[1])
    expect(monitoring.answers.verify[0]).toEqual(monitoring.answers.verify[1])
    expect(monitoring.events.map(({ keyId: _, ...event }) => event)).toEqual(
      Array.from({ length: 4 }, () => ({
        type: 'verification',
        valid: false,
        code: 'NOT_FOUND',
        ownerId: null,
        cost: 0,
        timestamp: START,
      })),
    )
    // Everything — answers, events, usage counts — as without abuse monitoring.
    expect(monitoring).toEqual(await wrongAndUnknown(false))
    expect(monitoring.usage.installation.counts.NOT_FOUND).toBe(4)
    expect(monitoring.usage.owner.requests).toBe(0)
  })
})

describe('abuse: many-networks', () => {
  const options: KeywardOptions = { abuse: { manyNetworks: { threshold: 3, windowMs: HOUR } } }

  it('fires when one key is used from threshold distinct networks in a window', async () => {
    const { keyward, events, key, record } = await monitored(options)
    for (const clientAddress of ['203.0.113.7', '198.51.100.20', '2001:db8:1:2::1']) {
      expect((await keyward.verify(key, { clientAddress })).valid).toBe(true)
    }
    await keyward.abuse.flush()
    expect(events).toEqual([
      expect.objectContaining({ kind: 'many-networks', keyId: record.id, ownerId: 'org_a', networks: 3 }),
    ])
    await keyward.close()
  })

  it('counts networks, not addresses: a /24 and a /64 are one client each', async () => {
    const { keyward, events, key } = await monitored(options)
    for (let host = 1; host <= 50; host++) await keyward.verify(key, { clientAddress: `203.0.113.${host}` })
    for (let host = 1; host <= 50; host++)
      await keyward.verify(key, { clientAddress: `2001:db8:1:2::${host.toString(16)}` })
    await keyward.verify(key, { clientAddress: '::ffff:203.0.113.99' })
    await keyward.verify(key, { clientAddress: 'not an address' })
    await keyward.verify(key)
    await keyward.abuse.flush()
    expect(events).toEqual([])
    await keyward.close()
  })

  it('fires once per key and window, and again in the next window', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    const burst = async () => {
      for (let net = 1; net <= 5; net++) await keyward.verify(key, { clientAddress: `10.0.${net}.1` })
      await keyward.abuse.flush()
    }
    await burst()
    clock.advance(30 * MINUTE)
    await burst()
    expect(events).toHaveLength(1)
    clock.advance(30 * MINUTE)
    await burst()
    expect(events).toHaveLength(2)
    await keyward.close()
  })

  it('adds networks up across the minutes and flushes of one window', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    for (const clientAddress of ['10.0.1.1', '10.0.2.1', '10.0.1.2']) {
      await keyward.verify(key, { clientAddress })
      await keyward.abuse.flush()
      clock.advance(10 * MINUTE)
    }
    expect(events).toEqual([])
    await keyward.verify(key, { clientAddress: '10.0.3.1' })
    await keyward.abuse.flush()
    expect(events).toEqual([expect.objectContaining({ kind: 'many-networks', networks: 3 })])
    await keyward.close()
  })

  it('groups addresses by the configured prefixes', () => {
    expect(clientNetworkOf('203.0.113.77', 24, 64)).toBe('203.0.113.0/24')
    expect(clientNetworkOf('::ffff:203.0.113.77', 24, 64)).toBe('203.0.113.0/24')
    expect(clientNetworkOf('[2001:db8:1:2:aaaa::1]', 24, 64)).toBe('2001:db8:1:2::/64')
    expect(clientNetworkOf('2001:db8:1:2:aaaa::1', 24, 48)).toBe('2001:db8:1::/48')
    expect(clientNetworkOf('203.0.113.77', 16, 64)).toBe('203.0.0.0/16')
    expect(clientNetworkOf('localhost', 24, 64)).toBeNull()
  })
})

describe('abuse: spike', () => {
  const options: KeywardOptions = {
    abuse: { spike: { factor: 4, baselineMinutes: 5, minRequests: 20, windowMs: HOUR } },
  }

  /** `perMinute[i]` requests in minute i, flushing after each minute as the timer would. */
  async function traffic(
    keyward: Awaited<ReturnType<typeof monitored>>['keyward'],
    clock: { advance(ms: number): void },
    key: string,
    perMinute: number[],
  ) {
    for (const count of perMinute) {
      for (let i = 0; i < count; i++) await keyward.verify(key)
      await keyward.abuse.flush()
      clock.advance(MINUTE)
    }
  }

  it('fires when a minute reaches factor × the mean of the minutes before', async () => {
    const { keyward, clock, events, key, record } = await monitored(options)
    await traffic(keyward, clock, key, [5, 5, 5, 5, 5, 20])
    expect(events).toEqual([
      {
        type: 'abuse',
        kind: 'spike',
        keyId: record.id,
        ownerId: 'org_a',
        minute: START + 5 * MINUTE,
        requests: 20,
        baseline: 5,
        factor: 4,
        windowStart: START,
        windowMs: HOUR,
        quarantined: false,
        timestamp: START + 5 * MINUTE,
      },
    ])
    await keyward.close()
  })

  it('stays quiet one request under factor × the mean', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    await traffic(keyward, clock, key, [5, 5, 5, 5, 5, 19])
    expect(events).toEqual([])
    await keyward.close()
  })

  it('needs a minimum volume: a key going from 1 to 5 requests a minute is no spike', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    await traffic(keyward, clock, key, [1, 1, 1, 1, 1, 5, 19])
    expect(events).toEqual([])
    await keyward.close()
  })

  it('waits for a key to be older than its baseline: a new key that starts busy is no spike', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    await traffic(keyward, clock, key, [0, 0, 0, 0, 200])
    expect(events).toEqual([])
    // Old enough now; 100 is under 4 × the mean of 40.
    await traffic(keyward, clock, key, [100])
    expect(events).toEqual([])
    const { key: later } = await keyward.keys.create({ ownerId: 'org_a' })
    await traffic(keyward, clock, later, [200, 200, 200, 200, 200])
    expect(events).toEqual([])
    await keyward.close()
  })

  it('evaluates the minute while it runs: fires as soon as the count gets there', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    await traffic(keyward, clock, key, [5, 5, 5, 5, 5])
    for (let i = 0; i < 10; i++) await keyward.verify(key)
    await keyward.abuse.flush()
    expect(events).toEqual([])
    for (let i = 0; i < 10; i++) await keyward.verify(key)
    await keyward.abuse.flush()
    expect(events).toEqual([expect.objectContaining({ kind: 'spike', requests: 20 })])
    await keyward.close()
  })

  it('fires once per key and window: a spike in the next minute is quiet, the next window fires again', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    await traffic(keyward, clock, key, [0, 0, 0, 0, 0, 30, 300])
    expect(events).toHaveLength(1)
    clock.advance(HOUR - 7 * MINUTE)
    await traffic(keyward, clock, key, [0, 0, 0, 0, 0, 30])
    expect(events.map((event) => event.windowStart)).toEqual([START, START + HOUR])
    await keyward.close()
  })
})

describe('abuse: failed-burst', () => {
  const options: KeywardOptions = {
    abuse: { failedBurst: { windowMs: HOUR } },
    bruteForce: { points: 3, duration: 60, blockDuration: 60 },
  }

  /** An apiKeyAuth's authenticator, and a request from `address` with `token`. */
  function guarded(keyward: Awaited<ReturnType<typeof monitored>>['keyward']) {
    const authenticator = createAuthenticator(keyward)
    return (token: string, address: string) =>
      authenticator.authenticate({
        getHeader: (name) => (name === 'x-api-key' ? token : undefined),
        getQuery: () => undefined,
        clientAddress: address,
      })
  }

  it('fires when the brute-force guard blocks an address', async () => {
    const { keyward, events, key } = await monitored(options)
    const request = guarded(keyward)
    for (let i = 0; i < 3; i++) await request(unknownKey(key), '198.51.100.9')
    expect(await request(key, '198.51.100.9')).toMatchObject({ ok: false, response: { status: 429 } })
    await expect.poll(() => events.length).toBe(1)
    expect(events[0]).toEqual({
      type: 'abuse',
      kind: 'failed-burst',
      network: '198.51.100.9',
      failures: 3,
      blockedUntil: START + MINUTE,
      windowStart: START,
      windowMs: HOUR,
      quarantined: false,
      timestamp: START,
    })
    expect(await keyward.abuse.recent()).toEqual(events)
    await keyward.close()
  })

  it('stays quiet one failed attempt under the guard’s threshold', async () => {
    const { keyward, events, key } = await monitored(options)
    const request = guarded(keyward)
    for (let i = 0; i < 2; i++) await request(unknownKey(key), '198.51.100.9')
    await request(unknownKey(key), '198.51.100.10')
    expect((await request(key, '198.51.100.9')).ok).toBe(true)
    await keyward.abuse.flush()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(events).toEqual([])
    await keyward.close()
  })

  it('fires once per address and window: a second block in the window is quiet, the next window fires', async () => {
    const { keyward, clock, events, key } = await monitored(options)
    const request = guarded(keyward)
    const burst = async () => {
      for (let i = 0; i < 3; i++) await request(unknownKey(key), '198.51.100.9')
    }
    await burst()
    await expect.poll(() => events.length).toBe(1)
    clock.advance(2 * MINUTE) // the block has ended
    await burst()
    expect(await request(key, '198.51.100.9')).toMatchObject({ ok: false, response: { status: 429 } })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(events).toHaveLength(1)
    clock.advance(HOUR)
    await burst()
    await expect.poll(() => events.length).toBe(2)
    expect(events.map((event) => event.windowStart)).toEqual([START, START + HOUR])
    await keyward.close()
  })
})

describe('abuse: quarantine', () => {
  it('disables the key, keeps the reason on the record, and clears it when re-enabled', async () => {
    const { keyward, events, key, record } = await monitored({
      abuse: { manyNetworks: { threshold: 2, quarantine: true } },
    })
    const updates: KeyLifecycleEvent[] = []
    keyward.events.on('key.updated', (event) => updates.push(event))
    await keyward.verify(key, { clientAddress: '10.0.1.1' })
    await keyward.verify(key, { clientAddress: '10.0.2.1' })
    await keyward.abuse.flush()
    expect(events).toEqual([expect.objectContaining({ kind: 'many-networks', quarantined: true })])
    await expect.poll(() => updates.length).toBe(1)
    expect(updates[0]).toMatchObject({
      actor: 'keyward:abuse',
      reason: 'abuse: used from 2 networks within 60 min (threshold 2)',
      key: { id: record.id, disabled: true },
    })
    expect(await keyward.keys.get(record.id)).toMatchObject({
      disabled: true,
      disabledReason: 'abuse: used from 2 networks within 60 min (threshold 2)',
    })
    expect(await keyward.verify(key)).toMatchObject({ valid: false, code: 'DISABLED' })
    const enabled = await keyward.keys.update(record.id, { disabled: false }, { actor: 'adm_1' })
    expect(enabled).toMatchObject({ disabled: false, disabledReason: null })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.close()
  })

  it('is opt-in: without it the key keeps working', async () => {
    const { keyward, events, key, record } = await monitored({ abuse: { manyNetworks: { threshold: 2 } } })
    await keyward.verify(key, { clientAddress: '10.0.1.1' })
    await keyward.verify(key, { clientAddress: '10.0.2.1' })
    await keyward.abuse.flush()
    expect(events).toEqual([expect.objectContaining({ quarantined: false })])
    expect(await keyward.keys.get(record.id)).toMatchObject({ disabled: false, disabledReason: null })
    expect((await keyward.verify(key)).valid).toBe(true)
    await keyward.close()
  })

  it('keeps the reason an operator gave when disabling a key', async () => {
    const { keyward, record } = await monitored()
    const disabled = await keyward.keys.update(record.id, { disabled: true }, { reason: 'invoice unpaid' })
    expect(disabled.disabledReason).toBe('invoice unpaid')
    expect((await keyward.keys.update(record.id, { name: 'x' })).disabledReason).toBe('invoice unpaid')
    await keyward.close()
  })
})

describe('abuse: history', () => {
  it('reads back recent events per key and for the installation, newest first', async () => {
    const { keyward, clock, key, record } = await monitored({
      abuse: { wrongSecret: { threshold: 1, windowMs: MINUTE }, history: { size: 2 } },
    })
    const other = await keyward.keys.create({ ownerId: 'org_b' })
    for (let minute = 0; minute < 3; minute++) {
      await keyward.verify(withOtherSecret(key))
      await keyward.verify(withOtherSecret(other.key))
      await keyward.abuse.flush()
      clock.advance(MINUTE)
    }
    const mine = await keyward.abuse.recent({ keyId: record.id })
    expect(mine.map((event) => [event.kind, 'keyId' in event && event.keyId, event.windowStart])).toEqual([
      ['wrong-secret', record.id, START + 2 * MINUTE],
      ['wrong-secret', record.id, START + MINUTE],
    ])
    expect(await keyward.abuse.recent({ keyId: record.id, limit: 1 })).toEqual(mine.slice(0, 1))
    expect((await keyward.abuse.recent()).map((event) => event.windowStart)).toEqual([
      START + 2 * MINUTE,
      START + 2 * MINUTE,
    ])
    expect(await keyward.abuse.recent({ keyId: 'nobody000000' })).toEqual([])
    await expect(keyward.abuse.recent({ limit: 0 })).rejects.toThrow(InvalidArgumentError)
    await keyward.close()
  })

  it('forgets events past their retention', async () => {
    const { keyward, clock, key, record } = await monitored({
      abuse: { wrongSecret: { threshold: 1 }, history: { retentionMs: HOUR } },
    })
    await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    expect(await keyward.abuse.recent({ keyId: record.id })).toHaveLength(1)
    clock.advance(HOUR + 1)
    expect(await keyward.abuse.recent({ keyId: record.id })).toEqual([])
    await keyward.close()
  })
})

describe('abuse: bounds and failures', () => {
  it('observes at most maxKeys keys per interval and counts what it dropped', async () => {
    const { keyward, events } = await monitored({ abuse: { maxKeys: 2, wrongSecret: { threshold: 1 } } })
    const keys = []
    for (let i = 0; i < 3; i++) keys.push((await keyward.keys.create({ ownerId: 'org_a' })).key)
    for (const key of keys) await keyward.verify(withOtherSecret(key))
    expect(keyward.abuse.stats()).toMatchObject({ pending: 2, droppedObservations: 1 })
    await keyward.abuse.flush()
    expect(events).toHaveLength(2)
    expect(keyward.abuse.stats()).toMatchObject({ pending: 0, flushes: 1 })
    await keyward.close()
  })

  it('drops the observations of a flush the store refuses, reports it, and keeps working', async () => {
    const store = new MemoryStore()
    const { keyward, events, key } = await monitored({ store, abuse: { wrongSecret: { threshold: 2 } } })
    const errors: { event: string }[] = []
    keyward.events.on('error', (error) => errors.push(error))
    const tally = store.abuse.tally.bind(store.abuse)
    store.abuse.tally = async () => {
      throw new StoreError('keyward: down (test)')
    }
    await keyward.verify(withOtherSecret(key))
    await expect(keyward.abuse.flush()).rejects.toThrow(StoreError)
    expect(errors).toEqual([expect.objectContaining({ event: 'abuse' })])
    expect(keyward.abuse.stats()).toMatchObject({ droppedObservations: 1, flushErrors: 1 })
    store.abuse.tally = tally
    await keyward.verify(withOtherSecret(key))
    await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    expect(events).toEqual([expect.objectContaining({ kind: 'wrong-secret', attempts: 2 })])
    await keyward.close()
  })

  it('retries a claim the store could not take at the next flush', async () => {
    const store = new MemoryStore()
    const { keyward, events, key } = await monitored({ store, abuse: { wrongSecret: { threshold: 1 } } })
    const claim = store.abuse.claim.bind(store.abuse)
    store.abuse.claim = async () => {
      throw new StoreError('keyward: down (test)')
    }
    await keyward.verify(withOtherSecret(key))
    await expect(keyward.abuse.flush()).rejects.toThrow(StoreError)
    store.abuse.claim = claim
    await keyward.abuse.flush()
    expect(events).toEqual([expect.objectContaining({ kind: 'wrong-secret', attempts: 1 })])
    await keyward.close()
  })

  it('observes nothing a signal that is on does not need', async () => {
    const { keyward, key } = await monitored({ abuse: { spike: false, manyNetworks: false } })
    for (let i = 0; i < 10; i++) await keyward.verify(key, { clientAddress: `10.0.${i}.1` })
    expect(keyward.abuse.stats().pending).toBe(0)
    await keyward.verify(withOtherSecret(key))
    expect(keyward.abuse.stats().pending).toBe(1)
    await keyward.close()
  })

  it('is off with abuse: false: nothing observed, nothing emitted', async () => {
    const { keyward, events, key } = await monitored({ abuse: false })
    for (let i = 0; i < 50; i++) await keyward.verify(withOtherSecret(key))
    await keyward.abuse.flush()
    expect(events).toEqual([])
    expect(keyward.abuse.stats()).toMatchObject({ pending: 0, flushes: 0 })
    await keyward.close()
  })
})

describe('abuse options', () => {
  it.each([
    [{ abuse: 'on' }, 'abuse'],
    [{ abuse: { tresholds: 1 } }, 'abuse.tresholds'],
    [{ abuse: { intervalMs: 0 } }, 'abuse.intervalMs'],
    [{ abuse: { maxKeys: 0 } }, 'abuse.maxKeys'],
    [{ abuse: { wrongSecret: { threshold: 0 } } }, 'abuse.wrongSecret.threshold'],
    [{ abuse: { wrongSecret: { windowMs: 90_000 } } }, 'abuse.wrongSecret.windowMs'],
    [{ abuse: { wrongSecret: { quarantine: 'yes' } } }, 'abuse.wrongSecret.quarantine'],
    [{ abuse: { manyNetworks: { threshold: 1 } } }, 'abuse.manyNetworks.threshold'],
    [{ abuse: { manyNetworks: { ipv6Prefix: 129 } } }, 'abuse.manyNetworks.ipv6Prefix'],
    [{ abuse: { spike: { factor: 1 } } }, 'abuse.spike.factor'],
    [{ abuse: { spike: { baselineMinutes: 0 } } }, 'abuse.spike.baselineMinutes'],
    [{ abuse: { spike: { quarantine: true, minRequest: 5 } } }, 'abuse.spike.minRequest'],
    [{ abuse: { failedBurst: { quarantine: true } } }, 'abuse.failedBurst.quarantine'],
    [{ abuse: { history: { size: 0 } } }, 'abuse.history.size'],
  ])('refuses %j with a ConfigError naming %s', (options, field) => {
    expect(() => keywardWithClock(options as KeywardOptions)).toThrow(
      expect.objectContaining({ name: 'ConfigError', option: field }),
    )
    expect(() => keywardWithClock(options as KeywardOptions)).toThrow(ConfigError)
  })

  it('needs abuse counters from a shared store, or abuse: false', () => {
    const shared = new MemoryStore()
    Object.defineProperty(shared, 'shared', { value: true })
    Object.defineProperty(shared, 'abuse', { value: undefined })
    const secret = 'x'.repeat(32)
    expect(() => keywardWithClock({ store: shared, secret })).toThrow(
      expect.objectContaining({ name: 'ConfigError', option: 'abuse' }),
    )
    expect(() => keywardWithClock({ store: shared, secret, abuse: false })).not.toThrow()
  })
})
