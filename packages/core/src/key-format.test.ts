import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConfigError } from './errors.ts'
import { createKeyward } from './index.ts'
import {
  BASE62_ALPHABET,
  checksum,
  formatKey,
  generateKey,
  isWellFormedKey,
  keyPattern,
  keyPrefixLength,
  MAX_KEY_LENGTH,
  parseKey,
  type RandomSource,
  randomBase62,
} from './key-format.ts'

/** The README's published scanning regex, written out here rather than taken from the code under test. */
const designRegex = (prefix: string) => new RegExp(`^${prefix}_(live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$`)

/** A table-driven CRC32 (IEEE 802.3, reflected 0xEDB88320), independent of zlib. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function referenceCrc32(text: string): number {
  let crc = 0xffffffff
  for (const byte of Buffer.from(text, 'utf8')) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
/** Big-endian base62 with BigInt arithmetic, left-padded to 6 with '0'. */
function referenceBase62(value: number): string {
  let n = BigInt(value)
  let out = ''
  while (n > 0n) {
    out = BASE62_ALPHABET[Number(n % 62n)] + out
    n /= 62n
  }
  return out.padStart(6, '0')
}

/** A random source that replays `bytes` in order and records every request. */
function replay(bytes: number[]): RandomSource & { requests: number[] } {
  let position = 0
  const source = ((size: number) => {
    source.requests.push(size)
    const out = new Uint8Array(size)
    for (let i = 0; i < size; i++) out[i] = bytes[position++ % bytes.length] as number
    return out
  }) as RandomSource & { requests: number[] }
  source.requests = []
  return source
}

const EXAMPLE = 'acme_live_gn4A6m8CKdow_R7JVUKlwW5JjyWSlUqp68EHAhDVOeD2b3lFhBh'

describe('key shape (docs/architecture.md, Key format)', () => {
  it('generates <prefix>_<env>_<id12>_<secret32><crc6> with base62 parts', () => {
    const { key, id } = generateKey('acme', 'live')
    const match = /^acme_live_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/.exec(key)
    expect(match).not.toBeNull()
    expect(match?.[1]).toBe(id)
    expect(key).toHaveLength(4 + 1 + 4 + 1 + 12 + 1 + 32 + 6)
  })

  it('puts the environment in the key', () => {
    expect(generateKey('kw', 'test').key.startsWith('kw_test_')).toBe(true)
    expect(generateKey('kw', 'live').key.startsWith('kw_live_')).toBe(true)
  })

  it('ends with the CRC32 of everything before it, as 6 big-endian base62 digits (checked against zlib and a reference CRC)', () => {
    for (let i = 0; i < 200; i++) {
      const { key } = generateKey('acme', i % 2 === 0 ? 'live' : 'test')
      const body = key.slice(0, -6)
      expect(referenceCrc32(body)).toBe(crc32(body))
      expect(key.slice(-6)).toBe(referenceBase62(crc32(body)))
      expect(checksum(body)).toBe(referenceBase62(referenceCrc32(body)))
    }
  })

  it('validates the checksum as zlib computes it, and refuses any one character changed', () => {
    // keyPrefixLength computes the CRC itself (one pass, no zlib call); the keys here are
    // checksummed by zlib's crc32, so the two must agree on every prefix, id and secret.
    const base62 = fc.constantFrom(...BASE62_ALPHABET)
    const part = (length: number) => fc.string({ unit: base62, minLength: length, maxLength: length })
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{2,12}$/),
        fc.constantFrom('live' as const, 'test' as const),
        part(12),
        part(32),
        fc.nat(),
        fc.constantFrom(...BASE62_ALPHABET),
        (prefix, environment, id, secret, at, replacement) => {
          const key = `${prefix}_${environment}_${id}_${secret}${checksum(`${prefix}_${environment}_${id}_${secret}`)}`
          expect(keyPrefixLength(key, prefix)).toBe(prefix.length)
          expect(keyPrefixLength(key)).toBe(prefix.length)
          const index = at % key.length
          if (key[index] === replacement) return
          const changed = key.slice(0, index) + replacement + key.slice(index + 1)
          expect(keyPrefixLength(changed)).toBe(-1)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('refuses a character outside base62 in the id or the secret, even under a checksum computed over it', () => {
    // The checksum of each token is the CRC keyPrefixLength computes (one byte per character, its
    // low 8 bits), so only the alphabet check can refuse them. `İ` (U+0130) has the low 7 bits of
    // `0`, `Ā` (U+0100) the low 8 bits of NUL.
    const body = `acme_live_${'a'.repeat(12)}_${'b'.repeat(32)}`
    for (const bad of ['-', '_', ' ', '!', '~', '\x7f', 'é', 'İ', 'Ā', '😀'.charAt(0)]) {
      for (const at of [10, 21, 23, 54]) {
        const changed = body.slice(0, at) + bad + body.slice(at + 1)
        const key = changed + referenceBase62(crc32(Buffer.from(changed, 'latin1')))
        expect(keyPrefixLength(key, 'acme')).toBe(-1)
        // The same token with a base62 character there passes: the refusal is the character's.
        const fine = `${body.slice(0, at)}Z${body.slice(at + 1)}`
        expect(keyPrefixLength(fine + referenceBase62(crc32(fine)), 'acme')).toBe(4)
      }
    }
  })

  it('left-pads small checksums with 0 and encodes the largest CRC in 6 digits', () => {
    // crc32('') is 0; find bodies with a small CRC to see the padding.
    expect(checksum('')).toBe('000000')
    expect(referenceBase62(0xffffffff)).toHaveLength(6)
    let body = ''
    for (let i = 0; ; i++) {
      body = `kw_live_${String(i).padStart(12, '0')}_`
      if (crc32(body) < 62 ** 4) break
    }
    const crc = checksum(body)
    expect(crc.startsWith('00')).toBe(true)
    expect(crc).toBe(referenceBase62(crc32(body)))
  })

  it('accepts the example key of the README and parses its parts', () => {
    expect(parseKey(EXAMPLE, 'acme')).toEqual({
      prefix: 'acme',
      environment: 'live',
      id: 'gn4A6m8CKdow',
      secret: 'R7JVUKlwW5JjyWSlUqp68EHAhDVOeD2b',
      checksum: '3lFhBh',
    })
  })

  it('formatKey builds a key from parts and parseKey returns those parts', () => {
    const id = 'abcDEF012345'
    const secret = `${'S'.repeat(16)}0123456789abcdef`
    const key = formatKey('shop', 'test', id, secret)
    expect(parseKey(key)).toEqual({
      prefix: 'shop',
      environment: 'test',
      id,
      secret,
      checksum: key.slice(-6),
    })
    expect(parseKey(key, 'shop')?.id).toBe(id)
  })

  it('parseKey rejects a key whose prefix is not the expected one', () => {
    const { key } = generateKey('acme', 'live')
    expect(parseKey(key, 'acme')).not.toBeNull()
    expect(parseKey(key, 'kw')).toBeNull()
    expect(isWellFormedKey(key, 'acm')).toBe(false)
    expect(isWellFormedKey(key, 'acmex')).toBe(false)
  })

  it('accepts prefixes of 2 to 12 characters and rejects other lengths', () => {
    for (const prefix of ['ab', 'a1', '123456789012', 'kw']) {
      const { key } = generateKey(prefix, 'live')
      expect(isWellFormedKey(key)).toBe(true)
      expect(parseKey(key)?.prefix).toBe(prefix)
    }
    const tooLong = formatKey('abcdefghijklm', 'live', 'a'.repeat(12), 'b'.repeat(32))
    expect(tooLong.length).toBeGreaterThan(MAX_KEY_LENGTH)
    expect(isWellFormedKey(tooLong)).toBe(false)
    expect(isWellFormedKey(formatKey('a', 'live', 'a'.repeat(12), 'b'.repeat(32)))).toBe(false)
  })

  it('rejects a prefix with uppercase or an underscore even with a correct checksum', () => {
    expect(isWellFormedKey(formatKey('Acme', 'live', 'a'.repeat(12), 'b'.repeat(32)))).toBe(false)
    expect(isWellFormedKey(formatKey('ac_me', 'live', 'a'.repeat(12), 'b'.repeat(32)))).toBe(false)
  })

  it('rejects a wrong environment, wrong separators or parts of the wrong length even with a correct checksum', () => {
    const id = 'a'.repeat(12)
    const secret = 'b'.repeat(32)
    const withCrc = (body: string) => body + checksum(body)
    expect(isWellFormedKey(withCrc(`kw_live_${id}_${secret}`))).toBe(true)
    expect(isWellFormedKey(withCrc(`kw_prod_${id}_${secret}`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw-live_${id}_${secret}`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw_live-${id}_${secret}`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw_live_${id}-${secret}`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw_live_${id}a_${secret.slice(1)}`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw_live_${id}_${secret}b`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw_live_${id.slice(1)}_${secret}`))).toBe(false)
    expect(isWellFormedKey(withCrc(`kw_live_${id.slice(1)}!_${secret}`))).toBe(false)
    // a checksum in lowercase hex or with a non-base62 char is not a base62 checksum
    expect(
      isWellFormedKey(`kw_live_${id}_${secret}${checksum(`kw_live_${id}_${secret}`).slice(0, 5)}-`),
    ).toBe(false)
  })

  it('never throws from parseKey / isWellFormedKey, whatever it is given', () => {
    for (const value of [undefined, null, 0, 42, {}, [], Symbol('x'), () => 1, new String('kw_live')]) {
      expect(parseKey(value)).toBeNull()
      expect(isWellFormedKey(value)).toBe(false)
    }
  })
})

describe('configurable prefix', () => {
  it('issues keys with the configured prefix and accepts only those', async () => {
    const acme = createKeyward({ prefix: 'acme' })
    const other = createKeyward({ prefix: 'other', store: acme.store })
    const { key } = await acme.keys.create({ ownerId: 'o' })
    expect(key.startsWith('acme_live_')).toBe(true)
    expect((await acme.verify(key)).valid).toBe(true)
    // Same store, other prefix: rejected offline as malformed.
    expect(await other.verify(key)).toMatchObject({ valid: false, code: 'MALFORMED' })
  })

  it('defaults the prefix to kw', async () => {
    const keyward = createKeyward()
    expect(keyward.prefix).toBe('kw')
    expect((await keyward.keys.create({ ownerId: 'o' })).key.startsWith('kw_live_')).toBe(true)
  })

  it.each(['', 'a', 'ABC', 'ac_me', 'acme-co', 'abcdefghijklm', 'ünï', ' kw'])(
    'rejects the prefix %j with a ConfigError naming `prefix`',
    (prefix) => {
      expect(() => createKeyward({ prefix })).toThrow(ConfigError)
      try {
        createKeyward({ prefix })
      } catch (error) {
        expect((error as ConfigError).option).toBe('prefix')
        expect((error as Error).message).toContain('prefix')
      }
    },
  )
})

describe('published scanning regex', () => {
  it('is the published scanning regex of the README, for the prefix', () => {
    expect(keyPattern('acme').source).toBe('\\bacme_(live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}\\b')
  })

  it('rejects an invalid prefix with a ConfigError naming `prefix`', () => {
    expect(() => keyPattern('a_b')).toThrow(ConfigError)
    expect(() => keyPattern('a_b')).toThrow(/prefix/)
  })

  it('finds every key in a blob of text, and nothing that only looks like one', () => {
    const keys = Array.from({ length: 20 }, (_, i) => generateKey('acme', i % 2 ? 'live' : 'test').key)
    const decoy = `xacme_live_${'a'.repeat(12)}_${'b'.repeat(38)}`
    const text = keys.map((key, i) => `line ${i}: "${key}",\n`).join('') + decoy
    const found = [...text.matchAll(keyPattern('acme'))].map((match) => match[0])
    expect(found).toEqual(keys)
  })

  it('100,000 generated keys are distinct and all match the published regex', () => {
    const pattern = keyPattern('acme', '')
    const fromDesign = designRegex('acme')
    const keys = new Set<string>()
    const ids = new Set<string>()
    for (let i = 0; i < 100_000; i++) {
      const { key, id } = generateKey('acme', i % 2 === 0 ? 'live' : 'test')
      if (!pattern.test(key) || !fromDesign.test(key) || !isWellFormedKey(key, 'acme')) {
        throw new Error(`generated key does not match the published regex: ${key}`)
      }
      keys.add(key)
      ids.add(id)
    }
    expect(keys.size).toBe(100_000)
    expect(ids.size).toBe(100_000)
  }, 60_000)
})

describe('randomness without modulo bias', () => {
  it('maps each byte value through its low 6 bits and drops 62 and 63 (every char has exactly 4 of the 256 bytes)', () => {
    const preimages = new Map<string, number[]>()
    const dropped: number[] = []
    for (let byte = 0; byte < 256; byte++) {
      // byte, then '5', then '7': an accepted byte yields <char>5, a dropped one yields 57.
      const out = randomBase62(2, replay([byte, 5, 7]))
      if (out === '57') {
        dropped.push(byte)
        continue
      }
      expect(out[1]).toBe('5')
      const char = out[0] as string
      preimages.set(char, [...(preimages.get(char) ?? []), byte])
    }
    expect(dropped.map((byte) => byte & 63).every((low) => low === 62 || low === 63)).toBe(true)
    expect(dropped).toHaveLength(8)
    expect(preimages.size).toBe(62)
    for (const [char, bytes] of preimages) {
      expect(bytes).toHaveLength(4)
      for (const byte of bytes) expect(BASE62_ALPHABET[byte & 63]).toBe(char)
    }
  })

  it('takes characters only from accepted bytes, in order, across as many draws as needed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }), (prefix) => {
        // Ends with accepted bytes so generation always finishes.
        const stream = [...prefix, ...Array.from({ length: 64 }, (_, i) => i % 62)]
        const source = replay(stream)
        const out = randomBase62(44, source)
        const drawn = source.requests.reduce((sum, size) => sum + size, 0)
        const expected = Array.from({ length: drawn }, (_, i) => stream[i % stream.length] as number)
          .filter((byte) => (byte & 63) < 62)
          .map((byte) => BASE62_ALPHABET[byte & 63])
          .join('')
          .slice(0, 44)
        expect(out).toBe(expected)
      }),
    )
  })

  it('keeps drawing while the source only gives rejected bytes', () => {
    const rejected = [62, 63, 126, 127, 190, 191, 254, 255]
    const source = replay([...Array.from({ length: 200 }, (_, i) => rejected[i % 8] as number), 1, 2, 3])
    const out = randomBase62(3, source)
    expect(out).toBe('123')
    expect(source.requests.length).toBeGreaterThan(1)
  })

  it('draws ids and secrets from the injected random source', async () => {
    const keyward = createKeyward({ random: replay([10, 11, 12]) })
    const { key, record } = await keyward.keys.create({ ownerId: 'o' })
    expect(record.id).toBe('ABCABCABCABC')
    expect(parseKey(key)?.secret).toMatch(/^[ABC]{32}$/)
  })

  it('gives every base62 character with equal frequency (chi-square on 620,000 characters)', () => {
    const counts = new Map<string, number>()
    const sample = randomBase62(620_000)
    for (const char of sample) counts.set(char, (counts.get(char) ?? 0) + 1)
    expect(counts.size).toBe(62)
    const expected = sample.length / 62
    let chiSquare = 0
    for (const count of counts.values()) chiSquare += (count - expected) ** 2 / expected
    // df = 61; P(chi² > 140) < 1e-7. A `byte % 62` mapping scores in the thousands here.
    expect(chiSquare).toBeLessThan(140)
  })

  it('the chi-square check would catch a modulo-biased mapping', () => {
    const bytes = randomBytes(620_000)
    const counts = new Array(62).fill(0) as number[]
    for (const byte of bytes) counts[byte % 62] = (counts[byte % 62] as number) + 1
    const expected = bytes.length / 62
    const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0)
    expect(chiSquare).toBeGreaterThan(140)
  })
})
