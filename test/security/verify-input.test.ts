/**
 * Finding 7: `verify` takes its `scopes` (and `cost`) from the caller, who may build them from user
 * input. It must never throw for any input and never write into a header what it did not validate.
 */
import { createKeyward } from '@keyward/core'
import { toHttpResponse } from '@keyward/core/adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

async function setup() {
  const keyward = createKeyward({ prefix: 'sec' })
  const { key } = await keyward.keys.create({ ownerId: 'org', scopes: ['orders:read'] })
  return { keyward, key }
}

function nested(depth: number): unknown {
  let requirement: unknown = 'orders:read'
  for (let level = 0; level < depth; level++) requirement = { anyOf: [requirement] }
  return requirement
}

describe('verify with an untrusted requirement', () => {
  it('never writes an unvalidated requirement into WWW-Authenticate', async () => {
    const { keyward, key } = await setup()
    const result = await keyward.verify(key, { scopes: 'x", error="invalid_request", realm="evil' })
    expect(result.valid).toBe(false)
    const response = toHttpResponse(result, { realm: 'api' })
    expect(response.headers['WWW-Authenticate'] ?? '').not.toContain('evil')
    expect(response.headers['WWW-Authenticate'] ?? '').not.toContain('x"')
    expect(JSON.stringify(response.body)).not.toContain('evil')
  })

  it('does not throw for deep nesting (RangeError) and fails closed', async () => {
    const { keyward, key } = await setup()
    const result = await keyward.verify(key, { scopes: nested(100_000) as never })
    expect(result.valid).toBe(false)
  })

  it('does not throw for a requirement of the wrong shape (TypeError) and fails closed', async () => {
    const { keyward, key } = await setup()
    for (const scopes of [
      { foo: 1 },
      { anyOf: 'x' },
      [null],
      42,
      null,
      { anyOf: [] },
      [[[{ allOf: [1] }]]],
    ]) {
      const result = await keyward.verify(key, { scopes: scopes as never })
      expect(result.valid, JSON.stringify(scopes)).toBe(false)
    }
  })

  it('does not throw for a bad cost and fails closed, spending nothing', async () => {
    const keyward = createKeyward({ prefix: 'sec' })
    const { key, record } = await keyward.keys.create({ ownerId: 'org', credits: { remaining: 10 } })
    for (const cost of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', null]) {
      const result = await keyward.verify(key, { cost: cost as never })
      expect(result.valid, String(cost)).toBe(false)
    }
    expect((await keyward.keys.get(record.id))?.credits?.remaining).toBe(10)
  })

  it('never throws for arbitrary requirements and options (property)', async () => {
    const { keyward, key } = await setup()
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (scopes, cost) => {
        const result = await keyward.verify(key, { scopes, cost } as never)
        const response = toHttpResponse(result, { realm: 'api' })
        const header = response.headers['WWW-Authenticate'] ?? ''
        // Whatever the requirement, the header stays a well-formed challenge.
        expect(
          header === '' || /^Bearer realm="api"(, [a-z_]+="[\x21\x23-\x5B\x5D-\x7E ]*")*$/.test(header),
        ).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
