import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from './errors.ts'
import { createKeyward } from './index.ts'
import {
  checkRequirement,
  checkScopes,
  isValidScope,
  missingScopes,
  type ScopeRequirement,
  satisfies,
  scopeCovers,
} from './scopes.ts'

describe('scopeCovers', () => {
  it('matches an exact scope and nothing else', () => {
    expect(scopeCovers('orders:read', 'orders:read')).toBe(true)
    expect(scopeCovers('orders:read', 'orders:write')).toBe(false)
    expect(scopeCovers('orders:read', 'orders')).toBe(false)
    expect(scopeCovers('orders', 'orders:read')).toBe(false)
    expect(scopeCovers('orders:read', 'orders:read:all')).toBe(false)
    expect(scopeCovers('Orders:read', 'orders:read')).toBe(false)
  })

  it('lets `invoices:*` cover every scope below invoices, by segment', () => {
    expect(scopeCovers('invoices:*', 'invoices:read')).toBe(true)
    expect(scopeCovers('invoices:*', 'invoices:lines:write')).toBe(true)
    expect(scopeCovers('invoices:*', 'invoices:*')).toBe(true)
  })

  it('does not let `invoices:*` cover `invoices` itself, a longer name, or a different stem', () => {
    expect(scopeCovers('invoices:*', 'invoices')).toBe(false)
    expect(scopeCovers('invoices:*', 'invoices:')).toBe(false)
    expect(scopeCovers('invoices:*', 'invoicesx:read')).toBe(false)
    expect(scopeCovers('invoices:*', 'invoice:read')).toBe(false)
    expect(scopeCovers('invoices:*', 'xinvoices:read')).toBe(false)
    expect(scopeCovers('invoices:*', '*')).toBe(false)
    expect(scopeCovers('invoices:lines:*', 'invoices:read')).toBe(false)
    expect(scopeCovers('invoices:lines:*', 'invoices:lines:read')).toBe(true)
  })

  it('treats a `*` that is not a whole trailing segment literally', () => {
    expect(scopeCovers('invoices*', 'invoices:read')).toBe(false)
    expect(scopeCovers('invoices*', 'invoicesx')).toBe(false)
    expect(scopeCovers('*:read', 'orders:read')).toBe(false)
  })

  it('lets `*` cover every scope', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (required) => {
        expect(scopeCovers('*', required)).toBe(true)
      }),
    )
  })

  it('never lets a granted `<stem>:*` cover a scope outside `<stem>:` (property)', () => {
    const segment = fc.stringMatching(/^[a-z]{1,6}$/)
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.string(), (stem, required) => {
        const granted = `${stem.join(':')}:*`
        expect(scopeCovers(granted, required)).toBe(
          required === granted || required.startsWith(`${stem.join(':')}:`),
        )
      }),
    )
  })
})

describe('satisfies / missingScopes', () => {
  const granted = ['orders:read', 'invoices:*', 'reports:daily']

  it('requires every scope of an array (all of)', () => {
    expect(satisfies(granted, ['orders:read', 'invoices:lines:write'])).toBe(true)
    expect(satisfies(granted, ['orders:read', 'orders:write'])).toBe(false)
    expect(missingScopes(granted, ['orders:read', 'orders:write', 'admin'])).toEqual([
      'orders:write',
      'admin',
    ])
  })

  it('requires one of `anyOf`', () => {
    expect(satisfies(granted, { anyOf: ['admin', 'orders:read'] })).toBe(true)
    expect(satisfies(granted, { anyOf: ['admin', 'orders:write'] })).toBe(false)
    expect(missingScopes(granted, { anyOf: ['admin', 'orders:write'] })).toEqual(['admin', 'orders:write'])
  })

  it('requires all of `allOf`', () => {
    expect(satisfies(granted, { allOf: ['orders:read', 'reports:daily'] })).toBe(true)
    expect(satisfies(granted, { allOf: ['orders:read', 'reports:weekly'] })).toBe(false)
    expect(missingScopes(granted, { allOf: ['orders:read', 'reports:weekly'] })).toEqual(['reports:weekly'])
  })

  it('evaluates nested combinations', () => {
    const requirement: ScopeRequirement = {
      allOf: ['orders:read', { anyOf: ['admin', ['invoices:read', 'reports:daily']] }],
    }
    expect(satisfies(granted, requirement)).toBe(true)
    expect(satisfies(['orders:read', 'invoices:read'], requirement)).toBe(false)
    expect(missingScopes(['orders:read', 'invoices:read'], requirement)).toEqual(['admin', 'reports:daily'])
    expect(satisfies(['orders:read', 'admin'], requirement)).toBe(true)
    expect(satisfies(['admin'], requirement)).toBe(false)
    expect(missingScopes(['admin'], requirement)).toEqual(['orders:read'])
  })

  it('reports no missing scopes when the requirement is satisfied', () => {
    expect(missingScopes(granted, ['orders:read', { anyOf: ['x', 'invoices:a'] }])).toEqual([])
  })

  it('names each missing scope once', () => {
    expect(missingScopes([], ['a', { anyOf: ['a', 'b'] }, { allOf: ['b'] }])).toEqual(['a', 'b'])
  })

  it('lets a key with `*` satisfy any requirement', () => {
    expect(satisfies(['*'], { allOf: ['a', { anyOf: ['b:c', 'd'] }, ['e:f:g']] })).toBe(true)
  })

  it('agrees with missingScopes: a requirement is satisfied exactly when nothing is missing (property)', () => {
    const scope = fc.constantFrom('a', 'b', 'a:x', 'a:y:z', 'b:x', 'c')
    const requirement: fc.Arbitrary<ScopeRequirement> = fc.letrec<{ node: ScopeRequirement }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scope,
        fc.array(tie('node'), { minLength: 1, maxLength: 3 }),
        fc.record({ anyOf: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ allOf: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
      ),
    })).node
    const grantedScopes = fc.array(fc.constantFrom('a', 'b', 'a:*', 'a:x', 'b:*', 'c', '*'), { maxLength: 4 })
    fc.assert(
      fc.property(grantedScopes, requirement, (have, need) => {
        expect(satisfies(have, need)).toBe(missingScopes(have, need).length === 0)
      }),
    )
  })
})

describe('validating scopes and requirements', () => {
  it('accepts RFC 6750 scope tokens', () => {
    for (const scope of ['a', 'orders:read', 'invoices:*', '*', 'x.y-z_1/2', '!#$%&()+,;<=>?@[]^`{|}~']) {
      expect(isValidScope(scope)).toBe(true)
    }
  })

  it('rejects empty, spaced, quoted, non-ASCII or over-long scopes', () => {
    for (const scope of ['', 'a b', 'a"b', 'a\\b', 'é', 'a\nb', 'x'.repeat(129), 42, null]) {
      expect(isValidScope(scope)).toBe(false)
    }
    expect(isValidScope('x'.repeat(128))).toBe(true)
  })

  it('dedupes granted scopes and rejects a non-array or a bad entry, naming the field', () => {
    expect(checkScopes('scopes', ['a', 'b', 'a'])).toEqual(['a', 'b'])
    expect(() => checkScopes('scopes', 'a')).toThrow(InvalidArgumentError)
    expect(() => checkScopes('scopes', ['ok', 'not ok'])).toThrow(/`scopes`/)
    expect(() =>
      checkScopes(
        'scopes',
        Array.from({ length: 257 }, (_, i) => `s${i}`),
      ),
    ).toThrow(InvalidArgumentError)
  })

  it('rejects invalid scopes when a key is created or updated', async () => {
    const keyward = createKeyward()
    for (const scopes of [['has space'], [''], ['a', 42], 'orders:read']) {
      await expect(keyward.keys.create({ ownerId: 'o', scopes: scopes as string[] })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        field: 'scopes',
      })
    }
    const { record } = await keyward.keys.create({ ownerId: 'o', scopes: ['a'] })
    await expect(keyward.keys.update(record.id, { scopes: ['bad"scope'] })).rejects.toMatchObject({
      field: 'scopes',
    })
    expect((await keyward.keys.get(record.id))?.scopes).toEqual(['a'])
  })

  it('validates a requirement tree and names the faulty node', () => {
    const good: ScopeRequirement = ['a', { anyOf: ['b', { allOf: ['c:*', 'd'] }] }]
    expect(checkRequirement('scopes', good)).toBe(good)
    expect(() => checkRequirement('scopes', 'bad scope')).toThrow(InvalidArgumentError)
    expect(() => checkRequirement('scopes', ['a', { anyOf: ['b', 'c d'] }])).toThrow(
      /scopes\[1\]\.anyOf\[1\]/,
    )
    expect(() => checkRequirement('scopes', { anyOf: 'a' })).toThrow(/scopes\.anyOf/)
    expect(() => checkRequirement('scopes', { oneOf: ['a'] })).toThrow(InvalidArgumentError)
    expect(() => checkRequirement('scopes', { anyOf: ['a'], allOf: ['b'] })).toThrow(InvalidArgumentError)
    expect(() => checkRequirement('scopes', null)).toThrow(InvalidArgumentError)
    expect(() => checkRequirement('scopes', 42)).toThrow(InvalidArgumentError)
    // An empty alternative list could never be satisfied and names nothing to grant.
    expect(() => checkRequirement('scopes', { anyOf: [] })).toThrow(/scopes\.anyOf/)
    expect(() => checkRequirement('scopes', ['a', { allOf: [] }])).toThrow(/scopes\[1\]\.allOf/)
  })
})

describe('scopes through verify', () => {
  it('authorizes by scope, wildcard and combinations', async () => {
    const keyward = createKeyward()
    const { key } = await keyward.keys.create({ ownerId: 'o', scopes: ['orders:read', 'invoices:*'] })
    const verdict = async (scopes: ScopeRequirement) => (await keyward.verify(key, { scopes })).valid
    expect(await verdict('orders:read')).toBe(true)
    expect(await verdict('invoices:lines:write')).toBe(true)
    expect(await verdict('invoices')).toBe(false)
    expect(await verdict('invoicesx:read')).toBe(false)
    expect(await verdict({ anyOf: ['admin', 'invoices:read'] })).toBe(true)
    expect(await verdict({ allOf: ['admin', 'invoices:read'] })).toBe(false)
    expect(await verdict([])).toBe(true)
  })

  it('a key with `*` passes every scope check', async () => {
    const keyward = createKeyward()
    const { key } = await keyward.keys.create({ ownerId: 'o', scopes: ['*'] })
    expect((await keyward.verify(key, { scopes: ['admin', 'orders:write'] })).valid).toBe(true)
  })

  it('a key without scopes fails any scope requirement but passes when none is asked', async () => {
    const keyward = createKeyward()
    const { key } = await keyward.keys.create({ ownerId: 'o' })
    expect((await keyward.verify(key)).valid).toBe(true)
    expect(await keyward.verify(key, { scopes: 'a' })).toMatchObject({
      code: 'INSUFFICIENT_SCOPE',
      missingScopes: ['a'],
    })
  })
})
