import type { VerifiedKey } from '@keyward/core'
import { describe, expectTypeOf, it } from 'vitest'
import type { KeywardContext, KeywardState } from './index.ts'

describe('@keyward/koa types', () => {
  it('types the verified key as ctx.state.apiKey', () => {
    expectTypeOf<KeywardState['apiKey']>().toEqualTypeOf<VerifiedKey | undefined>()
    expectTypeOf<KeywardContext['state']['apiKey']>().toEqualTypeOf<VerifiedKey | undefined>()
  })
})
