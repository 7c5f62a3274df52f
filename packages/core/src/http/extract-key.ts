/**
 * Finds the API key in a request: `Authorization: Bearer <key>` and `X-API-Key` by default, the
 * query string only when a parameter is named. Rejects, without any store access, what cannot be
 * a key: over-long values, control or non-ASCII characters, a header given twice, and two
 * different keys in two places (RFC 6750 §2: one method per request). Never throws.
 */

/** A header or query value as frameworks hand it over: Node gives arrays for repeated headers. */
export type RawValue = string | readonly string[] | undefined

/** What the authenticator needs to know about a request; each adapter supplies these. */
export interface HttpRequestView {
  /** The value of a header, `name` lower-case. Repeated headers as an array or joined with `, `. */
  getHeader(name: string): RawValue
  /**
   * Node's `rawHeaders` (`[name, value, …]`), when the request has them: every configured header is
   * then found in one pass, and repeated headers are seen. Takes precedence over `getHeader`.
   */
  rawHeaders?: readonly string[] | undefined
  /** The value of a query parameter (only called when `query` is configured). */
  getQuery(name: string): RawValue
  /** The client's address, for the brute-force guard and allowlists; `undefined` when unknown. */
  clientAddress: string | undefined
  /**
   * The framework's object for this request (`req`, `c`, `ctx`), the same for every middleware it
   * passes: lets a nested `apiKeyAuth` see that the request is already authenticated.
   */
  context?: object
}

export type Extraction =
  | { readonly kind: 'key'; readonly token: string }
  | { readonly kind: 'missing' }
  /** No key, but an `Authorization` header with another scheme (`Basic …`, or a bare key). */
  | { readonly kind: 'wrong-scheme' }
  | { readonly kind: 'malformed' }

/** Values longer than this are rejected before they are even trimmed (a key is ~80 chars). */
export const MAX_CREDENTIAL_LENGTH = 512

const MISSING: Extraction = Object.freeze({ kind: 'missing' })
const MALFORMED: Extraction = Object.freeze({ kind: 'malformed' })
const WRONG_SCHEME: Extraction = Object.freeze({ kind: 'wrong-scheme' })

/** A character that is not printable ASCII, space or tab: it cannot be part of a key. */
const NOT_PRINTABLE_ASCII = /[^\t\x20-\x7e]/

/**
 * Printable ASCII plus space and tab (trimmed later). A regular expression: V8 compiles it to a
 * native scan, where a `charCodeAt` loop re-checked the string's representation on every
 * character (~1,500 instructions for an `Authorization` header; `pnpm bench instructions`).
 */
function hasOnlyPrintableAscii(value: string): boolean {
  return !NOT_PRINTABLE_ASCII.test(value)
}

/** One raw value → a credential string, `null` when absent, `MALFORMED` when unusable. */
function single(raw: RawValue): string | null | Extraction {
  if (raw === undefined) return null
  let value: unknown
  if (typeof raw === 'string') value = raw
  else if (!Array.isArray(raw)) return MALFORMED
  else if (raw.length === 0) return null
  else if (raw.length === 1) value = raw[0]
  else return MALFORMED
  // Query parsers can hand over objects (`?api_key[a]=1`): not a key.
  if (typeof value !== 'string') return MALFORMED
  if (value.length > MAX_CREDENTIAL_LENGTH || !hasOnlyPrintableAscii(value)) return MALFORMED
  return value
}

/**
 * The value(s) of header `name` (lower-case) from Node's `rawHeaders` (`[name, value, …]`): a
 * string when sent once, an array when repeated. Unlike `req.headers`, which silently keeps only
 * the first `Authorization`, this sees every copy, so all adapters reject duplicates alike.
 */
export function readRawHeader(rawHeaders: readonly string[], name: string): RawValue {
  let found: string | string[] | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i] as string
    if (raw.length !== name.length || (raw !== name && raw.toLowerCase() !== name)) continue
    const value = rawHeaders[i + 1] as string
    if (found === undefined) found = value
    else if (typeof found === 'string') found = [found, value]
    else found.push(value)
  }
  return found
}

/** Does the raw header name `raw` equal the lower-case `name`, ignoring ASCII case? (No allocation.) */
function sameName(raw: string, name: string): boolean {
  if (raw === name) return true
  for (let i = 0; i < name.length; i++) {
    const code = raw.charCodeAt(i)
    // A–Z become a–z; everything else must match as it is.
    if ((code >= 65 && code <= 90 ? code + 32 : code) !== name.charCodeAt(i)) return false
  }
  return true
}

/** The values of every header in `names` (lower-case), in one pass over `rawHeaders`. */
function readRawHeaders(rawHeaders: readonly string[], names: readonly string[]): RawValue[] {
  const values: (string | string[] | undefined)[] = new Array(names.length)
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i] as string
    for (let n = 0; n < names.length; n++) {
      const name = names[n] as string
      if (raw.length !== name.length || !sameName(raw, name)) continue
      const value = rawHeaders[i + 1] as string
      const seen = values[n]
      if (seen === undefined) values[n] = value
      else if (typeof seen === 'string') values[n] = [seen, value]
      else seen.push(value)
      break
    }
  }
  return values
}

const BEARER = 'bearer'

/** Space or tab: the only whitespace a value that passed `hasOnlyPrintableAscii` can hold. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/**
 * `Bearer <token>` (scheme case-insensitive) → the token; another scheme → `null` (not ours).
 * Index arithmetic on the value, one slice at the end: trimming, slicing and lower-casing the
 * scheme made three strings per request.
 */
function bearerToken(value: string): string | null {
  let start = 0
  let end = value.length
  while (start < end && isBlank(value.charCodeAt(start))) start++
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--
  if (end - start < 6) return null
  for (let i = 0; i < 6; i++) {
    // ASCII letters only differ in bit 0x20 between cases; no other character maps onto these.
    if ((value.charCodeAt(start + i) | 0x20) !== BEARER.charCodeAt(i)) return null
  }
  if (end - start === 6) return ''
  if (!isBlank(value.charCodeAt(start + 6))) return null
  return value.slice(start + 7, end)
}

/**
 * Looks for the key in `headers` (lower-case names; `authorization` is read as a Bearer
 * credential, any other header as the bare key) and then in the `query` parameter, if named.
 */
export function extractKey(
  request: HttpRequestView,
  headers: readonly string[],
  query: string | null,
): Extraction {
  let found: string | null = null
  let otherScheme = false
  const raw = request.rawHeaders
  const values = raw === undefined ? null : readRawHeaders(raw, headers)
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i] as string
    const value = single(values === null ? request.getHeader(name) : values[i])
    if (value === null) continue
    if (typeof value !== 'string') return value
    let token: string | null = name === 'authorization' ? bearerToken(value) : value
    if (token === null) {
      otherScheme = value.trim() !== ''
      continue
    }
    token = token.trim()
    if (token === '') continue
    if (found !== null && found !== token) return MALFORMED
    found = token
  }
  if (query !== null) {
    const value = single(request.getQuery(query))
    if (value !== null) {
      if (typeof value !== 'string') return value
      const token = value.trim()
      if (token !== '') {
        if (found !== null && found !== token) return MALFORMED
        found = token
      }
    }
  }
  if (found !== null) return { kind: 'key', token: found }
  return otherScheme ? WRONG_SCHEME : MISSING
}
