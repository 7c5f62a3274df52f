import type { Admin, AdminOptions, AdminScope, CreatedKeyJson, KeyJson } from '@keyward/admin'
import { createAdmin } from '@keyward/admin'
import type { Keyward } from '@keyward/core'
import type { Context } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'

declare const keyward: Keyward

describe('@keyward/admin types', () => {
  it('createAdmin takes a keyward and returns an Admin with fetch, nodeListener and koa', () => {
    expectTypeOf(createAdmin).parameter(0).toEqualTypeOf<AdminOptions>()
    expectTypeOf(createAdmin({ keyward })).toEqualTypeOf<Admin>()
    expectTypeOf<Admin['fetch']>().returns.toEqualTypeOf<Response | Promise<Response>>()
    expectTypeOf<Admin['koa']>().parameter(0).toEqualTypeOf<string>()
  })

  it('ownerFrom gets the Hono context and answers an owner id, null or undefined (or a promise)', () => {
    createAdmin({ keyward, ownerFrom: (c) => c.req.header('x-owner') ?? null, grantableScopes: ['a:*'] })
    createAdmin({ keyward, ownerFrom: async () => 'org_42', grantableScopes: [] })
    expectTypeOf<NonNullable<AdminOptions['ownerFrom']>>().parameter(0).toExtend<Context>()
    // @ts-expect-error an owner id is a string
    createAdmin({ keyward, ownerFrom: () => 42, grantableScopes: [] })
  })

  it('names the admin scopes and the JSON the API speaks', () => {
    expectTypeOf<AdminScope>().toEqualTypeOf<
      | 'keyward:keys:read'
      | 'keyward:keys:write'
      | 'keyward:owners:read'
      | 'keyward:owners:write'
      | 'keyward:usage:read'
      | 'keyward:*'
    >()
    expectTypeOf<CreatedKeyJson['record']>().toEqualTypeOf<KeyJson>()
    expectTypeOf<KeyJson['createdAt']>().toEqualTypeOf<string>()
    expectTypeOf<KeyJson['lastUsedAt']>().toEqualTypeOf<string | null>()
  })
})
