import type { VerifiedKey } from '@keyward/core'
import type { Request } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import './index.ts'

describe('@keyward/express types', () => {
  it('types the verified key as req.apiKey', () => {
    expectTypeOf<Request['apiKey']>().toEqualTypeOf<VerifiedKey | undefined>()
  })
})
