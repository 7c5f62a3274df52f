import { describe, expect, it } from 'vitest'
import * as core from './index.ts'

describe('public API (the names the README documents)', () => {
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

  it('names exactly the VerifyCodes the README documents', () => {
    expect(Object.values(core.VerifyCode).sort()).toEqual(
      [
        'MISSING',
        'MALFORMED',
        'NOT_FOUND',
        'REVOKED',
        'EXPIRED',
        'DISABLED',
        'WRONG_ENVIRONMENT',
        'FORBIDDEN_NETWORK',
        'INSUFFICIENT_SCOPE',
        'RATE_LIMITED',
        'QUOTA_EXCEEDED',
        'UNAVAILABLE',
        'INVALID_REQUEST',
      ].sort(),
    )
  })
})
