import { userInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import { defaultActor } from './io.ts'

describe('the actor of CLI changes', () => {
  it('is cli:<login name>', () => {
    expect(defaultActor({})).toBe(`cli:${userInfo().username}`)
  })
})
