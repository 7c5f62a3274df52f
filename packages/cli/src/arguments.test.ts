import { describe, expect, it } from 'vitest'
import {
  parseCount,
  parseDuration,
  parseExpiry,
  parseJsonObject,
  parseRate,
  parseRefill,
} from './arguments.ts'
import { CliError, ExitCode } from './exit-codes.ts'

function usageMessage(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    expect((error as CliError).exitCode).toBe(ExitCode.USAGE)
    return (error as CliError).message
  }
  throw new Error('expected a usage error')
}

describe('command-line values', () => {
  it('reads durations in every unit', () => {
    expect(parseDuration('500ms', '--x')).toBe(500)
    expect(parseDuration('90s', '--x')).toBe(90_000)
    expect(parseDuration('15m', '--x')).toBe(900_000)
    expect(parseDuration('24h', '--x')).toBe(86_400_000)
    expect(parseDuration('30d', '--x')).toBe(30 * 86_400_000)
    expect(parseDuration('2w', '--x')).toBe(14 * 86_400_000)
  })

  it('names the flag and an accepted form when a duration is wrong', () => {
    expect(usageMessage(() => parseDuration('1 day', '--grace'))).toBe(
      'invalid --grace "1 day": expected a duration such as 90s, 15m, 24h or 30d',
    )
    usageMessage(() => parseDuration('-1h', '--grace'))
    usageMessage(() => parseDuration('1.5h', '--grace'))
  })

  it('reads rates as points per window in seconds', () => {
    expect(parseRate('100/1m')).toEqual({ points: 100, duration: 60 })
    expect(parseRate('10/1s')).toEqual({ points: 10, duration: 1 })
    expect(parseRate('1000/1h')).toEqual({ points: 1000, duration: 3600 })
    expect(parseRate('5/s')).toEqual({ points: 5, duration: 1 })
    expect(parseRate('50000/30d')).toEqual({ points: 50000, duration: 30 * 86_400 })
  })

  it('refuses rates without points or with a window under a second', () => {
    expect(usageMessage(() => parseRate('100'))).toContain('invalid --rate "100"')
    usageMessage(() => parseRate('0/1m'))
    usageMessage(() => parseRate('100/0s'))
    usageMessage(() => parseRate('100/500ms'))
  })

  it('reads refills as an amount per interval in milliseconds', () => {
    expect(parseRefill('1000/30d')).toEqual({ amount: 1000, interval: 30 * 86_400_000 })
    usageMessage(() => parseRefill('1000'))
    usageMessage(() => parseRefill('0/30d'))
    usageMessage(() => parseRefill('x/30d'))
  })

  it('reads counts within their range', () => {
    expect(parseCount('1000', '--credits')).toBe(1000)
    expect(usageMessage(() => parseCount('0', '--limit', 1, 1000))).toBe(
      'invalid --limit "0": expected a whole number from 1 to 1000',
    )
    usageMessage(() => parseCount('1e3', '--credits'))
    usageMessage(() => parseCount('-5', '--credits'))
  })

  it('reads an expiry as a duration from now or as a date, and refuses the past', () => {
    const now = Date.parse('2026-11-27T12:00:00Z')
    expect(parseExpiry('30d', now).toISOString()).toBe('2026-12-27T12:00:00.000Z')
    expect(parseExpiry('2027-01-31', now).toISOString()).toBe('2027-01-31T00:00:00.000Z')
    expect(parseExpiry('2027-01-31T08:30:00Z', now).toISOString()).toBe('2027-01-31T08:30:00.000Z')
    expect(usageMessage(() => parseExpiry('2020-01-01', now))).toContain('not in the future')
    usageMessage(() => parseExpiry('next week', now))
  })

  it('reads --meta as a JSON object only', () => {
    expect(parseJsonObject('{"plan":"pro"}', '--meta')).toEqual({ plan: 'pro' })
    usageMessage(() => parseJsonObject('[1]', '--meta'))
    usageMessage(() => parseJsonObject('{plan', '--meta'))
  })
})
