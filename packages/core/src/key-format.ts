/**
 * The API key format: `<prefix>_<env>_<id>_<secret><crc>`. The id (12 base62 chars) is the public
 * handle used for lookup; the secret (32 base62 chars, ≈190 bits) is never stored; the trailing
 * 6 base62 chars are the CRC32 of everything before them, so typos and truncated copies are
 * rejected offline, before any store access. See docs/architecture.md, "Key format".
 */
import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { ConfigError } from './errors.ts'

export type Environment = 'live' | 'test'

/** Returns `size` cryptographically random bytes. Injectable for tests. */
export type RandomSource = (size: number) => Uint8Array

export const BASE62_ALPHABET: string = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const ID_LENGTH = 12
export const SECRET_LENGTH = 32
export const CRC_LENGTH = 6
export const PREFIX_PATTERN: RegExp = /^[a-z0-9]{2,12}$/
/** Longest well-formed key: a 12-char prefix. Anything longer is rejected without parsing. */
export const MAX_KEY_LENGTH: number = 12 + 1 + 4 + 1 + ID_LENGTH + 1 + SECRET_LENGTH + CRC_LENGTH

export interface ParsedKey {
  prefix: string
  environment: Environment
  id: string
  /** The secret part, without the checksum. Handle as you would the key itself. */
  secret: string
  checksum: string
}

/** The base-62 value of every byte: -1 for each outside the alphabet, 128–255 included. */
const BASE62_VALUE = new Int8Array(256).fill(-1)
for (let i = 0; i < BASE62_ALPHABET.length; i++) BASE62_VALUE[BASE62_ALPHABET.charCodeAt(i)] = i

/** CRC-32 (IEEE 802.3, the polynomial and result of zlib's `crc32`), a byte at a time. */
const CRC_TABLE = new Int32Array(256)
for (let byte = 0; byte < 256; byte++) {
  let crc = byte
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1
  CRC_TABLE[byte] = crc
}

const defaultRandom: RandomSource = (size) => randomBytes(size)

/**
 * `length` base62 characters from `random`, by rejection sampling: a byte's low 6 bits are used
 * only when below 62, so every character is equally likely (no modulo bias).
 */
export function randomBase62(length: number, random: RandomSource = defaultRandom): string {
  let out = ''
  while (out.length < length) {
    // 62/64 of draws are kept; ask for a little more than needed to usually finish in one call.
    const bytes = random(Math.ceil((length - out.length) * 1.1) + 2)
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const value = (bytes[i] as number) & 0x3f
      if (value < 62) out += BASE62_ALPHABET[value]
    }
  }
  return out
}

/** CRC32 of `body` as 6 base62 chars, big-endian, left-padded with `0`. */
export function checksum(body: string): string {
  let value = crc32(body)
  let out = ''
  for (let i = 0; i < CRC_LENGTH; i++) {
    out = BASE62_ALPHABET[value % 62] + out
    value = Math.floor(value / 62)
  }
  return out
}

/** Builds a complete key from its parts, computing the checksum. */
export function formatKey(prefix: string, environment: Environment, id: string, secret: string): string {
  const body = `${prefix}_${environment}_${id}_${secret}`
  return body + checksum(body)
}

export interface GeneratedKey {
  key: string
  id: string
}

/** Generates a new key: a fresh random id and secret from a CSPRNG. */
export function generateKey(
  prefix: string,
  environment: Environment,
  random: RandomSource = defaultRandom,
): GeneratedKey {
  const id = randomBase62(ID_LENGTH, random)
  const key = formatKey(prefix, environment, id, randomBase62(SECRET_LENGTH, random))
  return { key, id }
}

/** Fixed-width tail of a key: `_<env>_<id12>_<secret32><crc6>` = 1+4+1+12+1+38 chars. */
const TAIL_LENGTH = 1 + 4 + 1 + ID_LENGTH + 1 + SECRET_LENGTH + CRC_LENGTH

/**
 * Checks a key's shape and checksum without taking it apart: the length of its prefix when it is a
 * well-formed key (with `prefix`, when given), else -1. Verify calls this on every request;
 * `parseKey` builds its parts from it. Never throws.
 */
export function keyPrefixLength(token: unknown, prefix?: string): number {
  if (typeof token !== 'string' || token.length > MAX_KEY_LENGTH) return -1
  const prefixLength = token.length - TAIL_LENGTH
  if (prefixLength < 2 || prefixLength > 12) return -1
  if (prefix !== undefined) {
    if (prefixLength !== prefix.length || !token.startsWith(prefix)) return -1
  } else if (!PREFIX_PATTERN.test(token.slice(0, prefixLength))) {
    return -1
  }
  if (token.charCodeAt(prefixLength) !== 95 /* _ */) return -1
  if (!token.startsWith('live', prefixLength + 1) && !token.startsWith('test', prefixLength + 1)) return -1
  const idStart = prefixLength + 6
  const secretStart = idStart + ID_LENGTH + 1
  const crcStart = secretStart + SECRET_LENGTH
  if (token.charCodeAt(idStart - 1) !== 95 || token.charCodeAt(secretStart - 1) !== 95) return -1
  // The alphabet of the id and the secret, and the CRC-32 of every character, over the key's
  // UTF-8 bytes copied once into a scratch array. A byte outside ASCII makes the copy longer than
  // the key: not a key. The same loop over `charCodeAt` cost ~5,200 instructions per request in
  // callgrind (the key is a slice of its header), the copy and this loop ~3,300.
  const { written } = UTF8.encodeInto(token, SCRATCH)
  if (written !== token.length) return -1
  let crc = -1
  for (let i = 0; i < idStart; i++) crc = crcStep(crc, SCRATCH[i] as number)
  // A byte outside base62 makes `bad` negative. The separator between the id and the secret was
  // matched above.
  let bad = 0
  for (let i = idStart; i < crcStart; i++) {
    const byte = SCRATCH[i] as number
    if (i !== secretStart - 1) bad |= BASE62_VALUE[byte] as number
    crc = crcStep(crc, byte)
  }
  // The checksum's six base-62 digits, compared as the number they spell (a CRC-32 fits in six).
  let expected = 0
  for (let i = crcStart; i < token.length; i++) {
    const digit = BASE62_VALUE[SCRATCH[i] as number] as number
    bad |= digit
    expected = expected * 62 + digit
  }
  return bad >= 0 && (crc ^ -1) >>> 0 === expected ? prefixLength : -1
}

/** One byte of the CRC-32 of a key. */
function crcStep(crc: number, byte: number): number {
  return (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)
}

const UTF8 = new TextEncoder()
/**
 * Where `keyPrefixLength` copies a key's bytes. Four bytes to spare: a copy that stops early
 * (a character no longer fits) has written more bytes than any key has characters.
 */
const SCRATCH = new Uint8Array(MAX_KEY_LENGTH + 4)

/** The environment of a key `keyPrefixLength` accepted. */
export function environmentAt(token: string, prefixLength: number): Environment {
  return token.charCodeAt(prefixLength + 1) === 108 /* l */ ? 'live' : 'test'
}

/** The id of a key `keyPrefixLength` accepted. */
export function idAt(token: string, prefixLength: number): string {
  return token.slice(prefixLength + 6, prefixLength + 6 + ID_LENGTH)
}

/**
 * Parses a key and validates its shape and checksum. Returns `null` for anything that is not a
 * well-formed key (wrong shape, wrong prefix when `prefix` is given, bad checksum). Never throws.
 */
export function parseKey(token: unknown, prefix?: string): ParsedKey | null {
  const prefixLength = keyPrefixLength(token, prefix)
  if (prefixLength === -1) return null
  const key = token as string
  const secretStart = prefixLength + 6 + ID_LENGTH + 1
  const crcStart = secretStart + SECRET_LENGTH
  return {
    prefix: key.slice(0, prefixLength),
    environment: environmentAt(key, prefixLength),
    id: idAt(key, prefixLength),
    secret: key.slice(secretStart, crcStart),
    checksum: key.slice(crcStart),
  }
}

/**
 * The id part of a string shaped like a key, unchecked (no checksum, no alphabet): a cheap guess
 * for decisions taken before `parseKey`, such as the brute-force guard's. `null` when the length
 * cannot be a key's.
 */
export function keyIdOf(token: string): string | null {
  const prefixLength = token.length - TAIL_LENGTH
  if (prefixLength < 2 || prefixLength > 12) return null
  return idAt(token, prefixLength)
}

/** True when `token` has the key shape and a valid checksum (and the given prefix, if any). */
export function isWellFormedKey(token: unknown, prefix?: string): boolean {
  return parseKey(token, prefix) !== null
}

/**
 * The published scanning regex for keys with `prefix` (README, "Key format"), e.g. for secret scanners.
 * A match is a candidate; confirm it offline with `isWellFormedKey`.
 */
export function keyPattern(prefix: string, flags = 'g'): RegExp {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError('prefix', 'must be 2–12 characters of a-z and 0-9 (no underscore)')
  }
  return new RegExp(`\\b${prefix}_(live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}\\b`, flags)
}
