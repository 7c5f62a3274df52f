/**
 * Shared fixtures for core tests: a controllable clock (keyward's `now` option) so expiry, grace
 * periods and refills are tested without sleeping, and a keyward instance wired to it.
 */
import { createKeyward, type Keyward, type KeywardOptions } from '@keyward/core'

export const START: number = Date.UTC(2026, 0, 1)

export type TestClock = (() => number) & { advance(ms: number): void }

export function testClock(start: number = START): TestClock {
  let time = start
  const now = () => time
  return Object.assign(now, {
    advance(ms: number) {
      time += ms
    },
  })
}

/** A keyward on a test clock starting at `START` (prefix `acme` unless `options` say otherwise). */
export function keywardWithClock(options: KeywardOptions = {}): { keyward: Keyward; clock: TestClock } {
  const clock = testClock()
  const keyward = createKeyward({ prefix: 'acme', now: clock, ...options })
  return { keyward, clock }
}
