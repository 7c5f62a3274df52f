import { describe, expect, it } from 'vitest'
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
})
