import { describe, expect, expectTypeOf, it } from 'vitest'
import type { VerifiedKey, VerifyFailure, VerifyResult, VerifySuccess } from './index.ts'
import * as core from './index.ts'

describe('public API (DESIGN §2–§3 names are binding)', () => {
  it('exports the named entry points', () => {
    expect(Object.keys(core)).toEqual(
      expect.arrayContaining([
        'createKeyward',
        'MemoryStore',
        'parseKey',
        'isWellFormedKey',
        'keyPattern',
        'VerifyCode',
        'ConfigError',
        'KeywardError',
        'StoreError',
      ]),
    )
  })

  it('names exactly the eleven VerifyCodes of DESIGN §3', () => {
    expect(Object.values(core.VerifyCode).sort()).toEqual(
      [
        'MISSING',
        'MALFORMED',
        'NOT_FOUND',
        'REVOKED',
        'EXPIRED',
        'DISABLED',
        'WRONG_ENVIRONMENT',
        'INSUFFICIENT_SCOPE',
        'RATE_LIMITED',
        'QUOTA_EXCEEDED',
        'UNAVAILABLE',
      ].sort(),
    )
  })

  it('types verify as a discriminated union whose key carries no secret or hash', async () => {
    const keyward = core.createKeyward()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    const result = await keyward.verify(key)
    expectTypeOf(result).toEqualTypeOf<VerifyResult>()
    if (result.valid) expectTypeOf(result).toEqualTypeOf<VerifySuccess>()
    else expectTypeOf(result).toEqualTypeOf<VerifyFailure>()
    expectTypeOf<VerifiedKey>().not.toHaveProperty('hash')
    expectTypeOf<VerifiedKey>().not.toHaveProperty('secret')
    expectTypeOf<core.KeyRecord>().not.toHaveProperty('hash')
    expect(result.valid).toBe(true)
  })
})
