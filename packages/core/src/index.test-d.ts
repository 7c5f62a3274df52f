import { describe, expectTypeOf, it } from 'vitest'
import type {
  AbuseEvent,
  AbuseKind,
  GuardBlock,
  GuardBlockedEvent,
  KeyRecord,
  UsageReport,
  UsageTopEntry,
  VerifiedKey,
  VerifyFailure,
  VerifyResult,
  VerifySuccess,
} from './index.ts'
import { createKeyward } from './index.ts'

describe('public types', () => {
  it('types verify as a discriminated union whose key carries no secret or hash', async () => {
    const keyward = createKeyward()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const result = await keyward.verify(key)
    expectTypeOf(result).toEqualTypeOf<VerifyResult>()
    if (result.valid) expectTypeOf(result).toEqualTypeOf<VerifySuccess>()
    else expectTypeOf(result).toEqualTypeOf<VerifyFailure>()
    expectTypeOf<VerifiedKey>().not.toHaveProperty('hash')
    expectTypeOf<VerifiedKey>().not.toHaveProperty('secret')
    expectTypeOf<KeyRecord>().not.toHaveProperty('hash')
  })

  it('has one VerifyFailure member per code, so a switch on code is exhaustive', () => {
    const label = (failure: VerifyFailure): string => {
      switch (failure.code) {
        case 'MISSING':
        case 'MALFORMED':
        case 'NOT_FOUND':
          return failure.code
        case 'REVOKED':
        case 'EXPIRED':
        case 'DISABLED':
        case 'WRONG_ENVIRONMENT':
          return failure.key.id
        case 'INSUFFICIENT_SCOPE':
          return failure.missingScopes.join(' ')
        case 'RATE_LIMITED':
          return String(failure.retryAfterMs + failure.rateLimit.length)
        case 'QUOTA_EXCEEDED':
          return String(failure.credits.remaining)
        case 'UNAVAILABLE':
          return String(failure.retryAfterMs)
        case 'FORBIDDEN_NETWORK':
          return failure.key.id
        case 'INVALID_REQUEST':
          return failure.field
        default: {
          const unreachable: never = failure
          return unreachable
        }
      }
    }
    expectTypeOf(label).parameter(0).toEqualTypeOf<VerifyFailure>()
  })

  it("types keyward.guard and the 'guard.blocked' event", () => {
    const keyward = createKeyward({ bruteForce: { points: 5 } })
    keyward.events.on('guard.blocked', (event) => {
      expectTypeOf(event).toEqualTypeOf<GuardBlockedEvent>()
      expectTypeOf(event.network).toBeString()
      expectTypeOf(event.until).toBeNumber()
    })
    expectTypeOf(keyward.guard.blocks).returns.resolves.toEqualTypeOf<GuardBlock[]>()
    expectTypeOf(keyward.guard.unblock).returns.resolves.toBeBoolean()
  })

  it('types usage reads, with a count for every outcome, and lastUsedAt on records', async () => {
    const keyward = createKeyward()
    const from = new Date(Date.now() - 3_600_000)
    const report = await keyward.usage.get({ keyId: 'k' }, { from, granularity: 'minute' })
    expectTypeOf(report).toEqualTypeOf<UsageReport>()
    expectTypeOf(report.buckets[0]!.counts.RATE_LIMITED).toEqualTypeOf<number>()
    expectTypeOf(report.totals.counts.VALID).toEqualTypeOf<number>()
    expectTypeOf(await keyward.usage.top({ from, by: 'rejections' })).toEqualTypeOf<UsageTopEntry[]>()
    expectTypeOf<KeyRecord['lastUsedAt']>().toEqualTypeOf<Date | null>()
    // @ts-expect-error: no such granularity
    await keyward.usage.get({ ownerId: 'o' }, { from, granularity: 'week' }).catch(() => {})
    keyward.events.on('usage.dropped', (event) => expectTypeOf(event.verifications).toEqualTypeOf<number>())
  })

  it('types abuse events as a union on kind, and the history as those events', async () => {
    const keyward = createKeyward({ abuse: { spike: { factor: 5 }, failedBurst: false } })
    keyward.events.on('abuse', (event) => {
      expectTypeOf(event).toEqualTypeOf<AbuseEvent>()
      expectTypeOf(event.kind).toEqualTypeOf<AbuseKind>()
      if (event.kind === 'failed-burst') expectTypeOf(event.network).toEqualTypeOf<string>()
      else expectTypeOf(event.keyId).toEqualTypeOf<string>()
      if (event.kind === 'spike') expectTypeOf(event.baseline).toEqualTypeOf<number>()
    })
    expectTypeOf(await keyward.abuse.recent({ keyId: 'k', limit: 5 })).toEqualTypeOf<AbuseEvent[]>()
    expectTypeOf<KeyRecord['disabledReason']>().toEqualTypeOf<string | null>()
    // @ts-expect-error: quarantine is for signals about a key
    createKeyward({ abuse: { failedBurst: { quarantine: true } } })
  })
})
