import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_KEY_HEADERS } from './authenticator.ts'
import { extractKey, type HttpRequestView, type RawValue, readRawHeader } from './extract-key.ts'

const KEY = 'kw_live_abcdefghijkl_0123456789abcdefghijklmnopqrstuv012345'

function request(headers: Record<string, RawValue>, query: Record<string, RawValue> = {}): HttpRequestView {
  return { getHeader: (name) => headers[name], getQuery: (name) => query[name], clientAddress: '127.0.0.1' }
}

const extract = (
  headers: Record<string, RawValue>,
  query: Record<string, RawValue> = {},
  name: string | null = null,
) => extractKey(request(headers, query), DEFAULT_KEY_HEADERS, name)

/** The Bearer parsing as first written (trim, slice, toLowerCase): what the scan must match. */
function referenceBearer(value: string): string | null {
  const trimmed = value.trim()
  if (trimmed.length < 6 || trimmed.slice(0, 6).toLowerCase() !== 'bearer') return null
  if (trimmed.length === 6) return ''
  const separator = trimmed.charCodeAt(6)
  if (separator !== 0x20 && separator !== 0x09) return null
  return trimmed.slice(7)
}

describe('extractKey', () => {
  it('reads an Authorization value exactly as trim + slice + toLowerCase would (property)', () => {
    // Schemes near "bearer": each letter in either case, or a printable character one other bit
    // away (`b` → `c`, `b` → `"`), which a case-insensitive comparison must not take for it.
    const near = (letter: string) => {
      const code = letter.charCodeAt(0)
      return fc.constantFrom(
        letter,
        letter.toUpperCase(),
        String.fromCharCode(code ^ 0x01),
        String.fromCharCode(code ^ 0x40),
      )
    }
    const blank = fc.array(fc.constantFrom(' ', '\t'), { maxLength: 2 }).map((parts) => parts.join(''))
    const scheme = fc.tuple(...[...'bearer'].map(near)).map((parts) => parts.join(''))
    const rest = fc.array(fc.constantFrom(' ', '\t', 'x', 'k', '0', '_'), { maxLength: 4 })
    fc.assert(
      fc.property(
        blank,
        fc.oneof(scheme, fc.constant('')),
        fc.option(fc.constantFrom(' ', '\t', 'x', '@')),
        rest,
        blank,
        (before, head, separator, tail, after) => {
          const value = `${before}${head}${separator ?? ''}${tail.join('')}${after}`
          const reference = referenceBearer(value)
          const token = reference === null ? null : reference.trim()
          const expected =
            token === null
              ? value.trim() === ''
                ? { kind: 'missing' }
                : { kind: 'wrong-scheme' }
              : token === ''
                ? { kind: 'missing' }
                : { kind: 'key', token }
          expect(extract({ authorization: value })).toEqual(expected)
        },
      ),
      { numRuns: 5000 },
    )
  })

  it('reads a Bearer credential, with the scheme in any case', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(extract({ authorization: `${scheme} ${KEY}` })).toEqual({ kind: 'key', token: KEY })
    }
  })

  it('reads X-API-Key as the bare key', () => {
    expect(extract({ 'x-api-key': KEY })).toEqual({ kind: 'key', token: KEY })
  })

  it('trims whitespace around the key', () => {
    expect(extract({ authorization: `  Bearer \t ${KEY}  ` })).toEqual({ kind: 'key', token: KEY })
    expect(extract({ 'x-api-key': ` ${KEY}\t` })).toEqual({ kind: 'key', token: KEY })
  })

  it('treats absent and empty values as missing', () => {
    expect(extract({})).toEqual({ kind: 'missing' })
    expect(extract({ 'x-api-key': '' })).toEqual({ kind: 'missing' })
    expect(extract({ 'x-api-key': '   ' })).toEqual({ kind: 'missing' })
    expect(extract({ authorization: 'Bearer' })).toEqual({ kind: 'missing' })
    expect(extract({ authorization: 'Bearer   ' })).toEqual({ kind: 'missing' })
  })

  it('takes no key from other Authorization schemes, and says a scheme was wrong', () => {
    expect(extract({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual({ kind: 'wrong-scheme' })
    expect(extract({ authorization: `Bearerx${KEY}` })).toEqual({ kind: 'wrong-scheme' })
    expect(extract({ authorization: KEY })).toEqual({ kind: 'wrong-scheme' })
    expect(extract({ authorization: '   ' })).toEqual({ kind: 'missing' })
    expect(extract({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': KEY })).toEqual({
      kind: 'key',
      token: KEY,
    })
  })

  it('rejects a header given twice', () => {
    expect(extract({ 'x-api-key': [KEY, KEY] })).toEqual({ kind: 'malformed' })
    expect(extract({ authorization: [`Bearer ${KEY}`, `Bearer ${KEY}`] })).toEqual({ kind: 'malformed' })
    expect(extract({ 'x-api-key': [KEY] })).toEqual({ kind: 'key', token: KEY })
  })

  it('rejects two different keys in two places, accepts the same key twice', () => {
    expect(extract({ authorization: `Bearer ${KEY}`, 'x-api-key': `${KEY}x` })).toEqual({ kind: 'malformed' })
    expect(extract({ authorization: `Bearer ${KEY}`, 'x-api-key': KEY })).toEqual({ kind: 'key', token: KEY })
  })

  it('rejects over-long values, control bytes and non-ASCII characters', () => {
    expect(extract({ 'x-api-key': 'a'.repeat(8192) })).toEqual({ kind: 'malformed' })
    expect(extract({ authorization: `Bearer ${'a'.repeat(600)}` })).toEqual({ kind: 'malformed' })
    for (const bad of ['\u0000', '\u0007', '\u001b', '\u007f', 'é', '\u00ff', '🔑', '\r\n']) {
      expect(extract({ 'x-api-key': `${KEY}${bad}` }), JSON.stringify(bad)).toEqual({ kind: 'malformed' })
    }
  })

  it('reads the query string only when a parameter is named', () => {
    expect(extract({}, { api_key: KEY })).toEqual({ kind: 'missing' })
    expect(extract({}, { api_key: KEY }, 'api_key')).toEqual({ kind: 'key', token: KEY })
    expect(extract({}, { api_key: [KEY, KEY] }, 'api_key')).toEqual({ kind: 'malformed' })
    expect(extract({ 'x-api-key': KEY }, { api_key: 'other' }, 'api_key')).toEqual({ kind: 'malformed' })
  })

  it('reads only the configured headers', () => {
    const view = request({ 'x-api-key': KEY, 'x-token': KEY })
    expect(extractKey(view, ['x-token'], null)).toEqual({ kind: 'key', token: KEY })
    expect(extractKey(request({ 'x-api-key': KEY }), ['x-token'], null)).toEqual({ kind: 'missing' })
  })
})

describe('readRawHeader', () => {
  it('finds a header case-insensitively and returns every copy of a repeated one', () => {
    const raw = ['Host', 'x', 'Authorization', 'Bearer a', 'X-Api-Key', 'k', 'authorization', 'Bearer b']
    expect(readRawHeader(raw, 'x-api-key')).toBe('k')
    expect(readRawHeader(raw, 'authorization')).toEqual(['Bearer a', 'Bearer b'])
    expect(readRawHeader(raw, 'x-other')).toBeUndefined()
  })

  it('rejects query values a parser turned into objects', () => {
    expect(extract({}, { api_key: { a: '1' } as never }, 'api_key')).toEqual({ kind: 'malformed' })
    expect(extract({}, { api_key: [{ a: '1' }] as never }, 'api_key')).toEqual({ kind: 'malformed' })
  })
})

describe('extractKey from Node rawHeaders (one pass)', () => {
  const fromRaw = (rawHeaders: string[]) =>
    extractKey(
      { getHeader: () => undefined, getQuery: () => undefined, clientAddress: undefined, rawHeaders },
      DEFAULT_KEY_HEADERS,
      null,
    )

  it('finds the key whatever the case of the header name', () => {
    for (const name of ['Authorization', 'authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn']) {
      expect(fromRaw(['Host', 'x', name, `Bearer ${KEY}`])).toEqual({ kind: 'key', token: KEY })
    }
    expect(fromRaw(['X-Api-Key', KEY, 'Accept', '*/*'])).toEqual({ kind: 'key', token: KEY })
  })

  it('sees a header sent twice, and two different keys in two headers', () => {
    expect(fromRaw(['authorization', `Bearer ${KEY}`, 'Authorization', `Bearer ${KEY}`])).toEqual({
      kind: 'malformed',
    })
    expect(fromRaw(['authorization', `Bearer ${KEY}`, 'x-api-key', `${KEY.slice(0, -1)}0`])).toEqual({
      kind: 'malformed',
    })
  })

  it('ignores headers whose names only look alike', () => {
    expect(fromRaw(['x-api-keys', KEY, 'authorizatio', `Bearer ${KEY}`, 'x-api-kez', KEY])).toEqual({
      kind: 'missing',
    })
  })

  it('answers exactly as getHeader does for the same request (property)', () => {
    const names = ['authorization', 'Authorization', 'x-api-key', 'X-API-KEY', 'host', 'accept']
    const values = [`Bearer ${KEY}`, KEY, '', 'Basic abc', `bearer ${KEY}`, 'x']
    for (let run = 0; run < 500; run++) {
      const rawHeaders: string[] = []
      const count = run % 5
      for (let index = 0; index < count; index++) {
        rawHeaders.push(
          names[(run * 7 + index * 3) % names.length] as string,
          values[(run + index) % values.length] as string,
        )
      }
      const viaGetHeader = extractKey(
        {
          getHeader: (name) => readRawHeader(rawHeaders, name),
          getQuery: () => undefined,
          clientAddress: undefined,
        },
        DEFAULT_KEY_HEADERS,
        null,
      )
      expect(fromRaw(rawHeaders)).toEqual(viaGetHeader)
    }
  })
})
