import type { ResolvedPolicy } from '@keyward/core/store'
import { describe, expect, it } from 'vitest'
import type { CommandGuard } from './command-guard.ts'
import { LocalFirstLimits } from './local-first.ts'

// One point per minute, reconciled once a minute: within a test nothing is ever sent to Redis, so
// the table's own bookkeeping (what it remembers, what it forgets first) is all that is exercised.
const POLICY: ResolvedPolicy = { name: 'p', points: 1, duration: 60, blockDuration: 0, syncMs: 60_000 }
const neverCalled = (): Promise<unknown> => Promise.reject(new Error('no sync expected in this test'))

function limits(maxEntries: number): LocalFirstLimits {
  const table = new LocalFirstLimits(null as unknown as CommandGuard, neverCalled, maxEntries)
  return table
}

const take = (table: LocalFirstLimits, key: string) => table.take(key, 'group', POLICY).allowed

describe('LocalFirstLimits: a bounded table', () => {
  it('forgets the least recently used counter first, not the first inserted', () => {
    const table = limits(2)
    expect(take(table, 'a')).toBe(true)
    expect(take(table, 'b')).toBe(true)
    expect(take(table, 'a')).toBe(false) // a is now the most recently used
    expect(take(table, 'c')).toBe(true) // over the cap: b goes
    expect(take(table, 'a')).toBe(false) // a kept
    expect(take(table, 'b')).toBe(true) // b forgotten: a fresh window
    table.close()
  })

  it('forgets a drained counter before one with points not yet sent', () => {
    const table = limits(2)
    expect(take(table, 'p')).toBe(true)
    expect(take(table, 'q')).toBe(true)
    table.refund('q') // q has nothing pending now
    expect(take(table, 'r')).toBe(true) // over the cap: q goes although p is older
    expect(take(table, 'p')).toBe(false)
    expect(take(table, 'q')).toBe(true)
    table.close()
  })
})
