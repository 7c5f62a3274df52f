import { formatKey } from '@keyward/core/testing'
import { describe, expect, it } from 'vitest'
import { findKeys } from './find-keys.ts'

const live = formatKey('kw', 'live', 'AbCdEfGh1234', 'S'.repeat(32))
const test = formatKey('kw', 'test', 'ZyXwVuTs9876', 'T'.repeat(32))
const acme = formatKey('acme', 'live', 'AcmeAcme0001', 'U'.repeat(32))

/** The same shape with its checksum changed: what a typo or a made-up example looks like. */
function withWrongChecksum(key: string): string {
  const last = key.at(-1) === 'A' ? 'B' : 'A'
  return key.slice(0, -1) + last
}

describe('findKeys', () => {
  it('finds keys with their line, column, id and environment', () => {
    const text = `first line\nAPI_KEY=${live}\n  other: "${test}"\n`
    expect(findKeys(text, ['kw'])).toEqual([
      { line: 2, column: 9, id: 'AbCdEfGh1234', prefix: 'kw', environment: 'live' },
      { line: 3, column: 11, id: 'ZyXwVuTs9876', prefix: 'kw', environment: 'test' },
    ])
  })

  it('counts CRLF lines like LF lines', () => {
    expect(findKeys(`a\r\nb\r\nkey=${live}\r\n`, ['kw'])).toMatchObject([{ line: 3, column: 5 }])
  })

  it('finds several keys on one long line', () => {
    const minified = `var a="${live}",b=1;${'x'.repeat(5000)};var c="${test}";`
    const found = findKeys(minified, ['kw'])
    expect(found.map((f) => [f.line, f.id])).toEqual([
      [1, 'AbCdEfGh1234'],
      [1, 'ZyXwVuTs9876'],
    ])
    expect(found[1]?.column).toBe(minified.indexOf(test) + 1)
  })

  it('ignores well-shaped strings whose checksum is wrong', () => {
    expect(findKeys(`key=${withWrongChecksum(live)}`, ['kw'])).toEqual([])
  })

  it('looks only for the prefixes asked for, several at once', () => {
    const text = `${live}\n${acme}\n`
    expect(findKeys(text, ['kw']).map((f) => f.id)).toEqual(['AbCdEfGh1234'])
    expect(findKeys(text, ['acme']).map((f) => f.id)).toEqual(['AcmeAcme0001'])
    expect(findKeys(text, ['acme', 'kw']).map((f) => f.line)).toEqual([1, 2])
  })

  it('does not match a key glued to other word characters (the published regex is word-bounded)', () => {
    expect(findKeys(`x${live}`, ['kw'])).toEqual([])
    expect(findKeys(`${live}x`, ['kw'])).toEqual([])
  })

  it('never returns the secret or the whole key', () => {
    const found = JSON.stringify(findKeys(live, ['kw']))
    expect(found).not.toContain('S'.repeat(8))
    expect(found).not.toContain(live)
  })
})
