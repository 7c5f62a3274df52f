import { describe, expect, it } from 'vitest'
import { ConfigError } from '../errors.ts'
import { createKeyward } from '../index.ts'
import { AddressTable } from './address-table.ts'
import { resolveBruteForceOptions } from './options.ts'
import { VerifiedIds } from './verified-ids.ts'

describe('bruteForce option', () => {
  it('defaults to 20 failures in 60 s → 300 s, IPv6 by /64, 100,000 networks', () => {
    expect(resolveBruteForceOptions('bruteForce', undefined)).toEqual({
      points: 20,
      durationMs: 60_000,
      blockMs: 300_000,
      ipv6Prefix: 64,
      maxAddresses: 100_000,
    })
    expect(resolveBruteForceOptions('bruteForce', false)).toBeNull()
  })

  it('refuses a bad value at createKeyward, naming the field', () => {
    const bad: [unknown, string][] = [
      [{ points: 0 }, 'bruteForce.points'],
      [{ duration: 1.5 }, 'bruteForce.duration'],
      [{ ipv6Prefix: 129 }, 'bruteForce.ipv6Prefix'],
      [{ maxAddresses: -1 }, 'bruteForce.maxAddresses'],
      [{ point: 5 }, 'bruteForce.point'],
      [true, 'bruteForce'],
    ]
    for (const [bruteForce, option] of bad) {
      expect(() => createKeyward({ bruteForce: bruteForce as never }), option).toThrow(ConfigError)
      try {
        createKeyward({ bruteForce: bruteForce as never })
      } catch (error) {
        expect((error as ConfigError).option).toBe(option)
      }
    }
  })
})

describe('AddressTable', () => {
  it('sweeps expired counts and blocks as new networks arrive', () => {
    const table = new AddressTable(100, 1000)
    table.counter('a', 0).failures = 1
    table.block('b', 500, 0)
    expect(table.size).toBe(2)
    table.counter('c', 1000)
    expect(table.peek('a')).toBeUndefined()
    expect(table.blockedUntil('b', 1000)).toBe(0)
    expect(table.size).toBe(1)
  })

  it('at the cap evicts the oldest count first, and a live block only when no count is left', () => {
    const table = new AddressTable(3, 60_000)
    table.block('attacker', 300_000, 0)
    table.counter('x', 1).failures = 1
    table.counter('y', 2).failures = 1
    table.counter('z', 3).failures = 1
    expect(table.peek('x')).toBeUndefined()
    expect(table.blockedUntil('attacker', 4)).toBe(300_000)
    table.block('second', 300_005, 5)
    table.block('third', 300_006, 6)
    expect(table.size).toBe(3)
    table.block('fourth', 300_007, 7)
    expect(table.listBlocks(8).map((block) => block.network)).toEqual(['second', 'third', 'fourth'])
  })

  it('restarts an ended window and moves it to the back', () => {
    const table = new AddressTable(2, 1000)
    const a = table.counter('a', 0)
    a.failures = 3
    table.counter('b', 500).failures = 1
    expect(table.counter('a', 1000).failures).toBe(0)
    table.counter('c', 1001)
    // 'b' was the oldest once 'a' restarted.
    expect(table.peek('b')).toBeUndefined()
    expect(table.peek('a')).toBe(a)
  })

  it('keeps the later end when a block arrives twice, and unblock reports whether one was in force', () => {
    const table = new AddressTable(10, 1000)
    table.block('n', 2000, 0)
    table.block('n', 1500, 0)
    expect(table.blockedUntil('n', 0)).toBe(2000)
    expect(table.unblock('n', 0)).toBe(true)
    expect(table.unblock('n', 0)).toBe(false)
  })
})

describe('VerifiedIds', () => {
  it('holds at most its size and keeps an id in steady use', () => {
    const ids = new VerifiedIds(10)
    for (let index = 0; index < 1000; index++) {
      ids.add(`one-off-${index}`)
      ids.add('steady')
      expect(ids.size).toBeLessThanOrEqual(10)
    }
    expect(ids.has('steady')).toBe(true)
    expect(ids.has('one-off-0')).toBe(false)
  })
})
