import { createKeyward, type VerifiedKey } from '@keyward/core'
import { Hono } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import { apiKeyAuth, type Variables } from './index.ts'

describe('@keyward/hono types', () => {
  it('types c.get("apiKey"): VerifiedKey behind apiKeyAuth, possibly undefined elsewhere', () => {
    const keyward = createKeyward()
    const typed = new Hono<{ Variables: Variables }>()
    typed.get('/', (c) => {
      expectTypeOf(c.get('apiKey')).toEqualTypeOf<VerifiedKey>()
      return c.text('')
    })
    new Hono().get('/', apiKeyAuth(keyward), (c) => {
      expectTypeOf(c.var.apiKey).toEqualTypeOf<VerifiedKey>()
      return c.text('')
    })
    new Hono().get('/', (c) => {
      expectTypeOf(c.get('apiKey')).toEqualTypeOf<VerifiedKey | undefined>()
      return c.text('')
    })
  })
})
