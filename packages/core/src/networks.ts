/**
 * IP addresses and CIDR networks, for per-key network allowlists and for grouping client
 * addresses (an IPv6 client usually owns a whole /64). Hand-written rather than `net.BlockList`:
 * a check runs on every request of a key with an allowlist, and BlockList costs ~2 µs a call where
 * this costs a fraction of that (bench/core.bench.ts). IPv4-mapped IPv6 (`::ffff:203.0.113.7`) is
 * treated as the IPv4 address it carries, in addresses and in networks alike.
 */

/** An address as 32-bit words: one for IPv4, four for IPv6. */
export interface IpAddress {
  readonly version: 4 | 6
  readonly words: readonly number[]
}

export interface Network extends IpAddress {
  /** Prefix length in bits (0–32 for IPv4, 0–128 for IPv6). */
  readonly prefix: number
  /** Canonical text, e.g. `203.0.113.0/24` or `2001:db8::/32`. */
  readonly text: string
}

function parseIpv4(text: string): number | null {
  let value = 0
  let parts = 0
  let part = -1
  let digits = 0
  for (let index = 0; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : 46 /* . */
    if (code === 46) {
      if (part < 0 || parts === 4) return null
      value = value * 256 + part
      parts++
      part = -1
      digits = 0
    } else if (code >= 48 && code <= 57) {
      // No leading zeros ("010" is octal to some parsers): refuse the ambiguity.
      if (digits > 0 && part === 0) return null
      part = Math.max(part, 0) * 10 + (code - 48)
      if (part > 255 || ++digits > 3) return null
    } else {
      return null
    }
  }
  return parts === 4 ? value >>> 0 : null
}

/** Value of a hex digit's char code, or -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 97 && code <= 102) return code - 87
  if (code >= 65 && code <= 70) return code - 55
  return -1
}

/**
 * The eight 16-bit groups of an IPv6 address, or `null`. One pass over the characters, without
 * `split` or regular expressions: it runs per request for guard and allowlist checks.
 */
function parseIpv6Groups(text: string): number[] | null {
  const length = text.length
  const groups: number[] = []
  /** Where `::` stands, as an index into `groups`; -1 without one. */
  let gap = -1
  let index = 0
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return null
    gap = 0
    index = 2
  }
  while (index < length) {
    const start = index
    let value = 0
    while (index < length) {
      const digit = hexValue(text.charCodeAt(index))
      if (digit < 0) break
      value = value * 16 + digit
      index++
      if (index - start > 4) return null
    }
    if (text.charCodeAt(index) === 46 /* . */) {
      // A dotted IPv4 tail (`::ffff:192.0.2.1`): the last 32 bits.
      const v4 = parseIpv4(text.slice(start))
      if (v4 === null || groups.length > 6) return null
      groups.push(v4 >>> 16, v4 & 0xffff)
      break
    }
    if (index === start || groups.length === 8) return null
    groups.push(value)
    if (index === length) break
    if (text.charCodeAt(index) !== 58) return null
    index++
    if (text.charCodeAt(index) === 58) {
      if (gap !== -1) return null
      gap = groups.length
      index++
    } else if (index === length) {
      return null
    }
  }
  if (gap === -1) return groups.length === 8 ? groups : null
  const missing = 8 - groups.length
  if (missing < 1) return null
  groups.splice(gap, 0, ...new Array<number>(missing).fill(0))
  return groups
}

/**
 * Parses an IPv4 or IPv6 address (brackets and a `%zone` allowed); IPv4-mapped IPv6 comes back as
 * IPv4. `null` for anything else.
 */
export function parseIp(input: unknown): IpAddress | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > 64) return null
  let text = input
  if (text.charCodeAt(0) === 91 /* [ */ && text.endsWith(']')) text = text.slice(1, -1)
  const zone = text.indexOf('%')
  if (zone !== -1) text = text.slice(0, zone)
  if (!text.includes(':')) {
    const v4 = parseIpv4(text)
    return v4 === null ? null : { version: 4, words: [v4] }
  }
  const groups = parseIpv6Groups(text)
  if (groups === null) return null
  // ::ffff:a.b.c.d — an IPv4 client seen through a dual-stack socket.
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return { version: 4, words: [(((groups[6] as number) << 16) | (groups[7] as number)) >>> 0] }
  }
  const words: number[] = []
  for (let index = 0; index < 8; index += 2) {
    words.push((((groups[index] as number) << 16) | (groups[index + 1] as number)) >>> 0)
  }
  return { version: 6, words }
}

function maskWord(word: number, bits: number): number {
  if (bits >= 32) return word >>> 0
  if (bits <= 0) return 0
  return (word & (0xffffffff << (32 - bits))) >>> 0
}

function masked(address: IpAddress, prefix: number): number[] {
  return address.words.map((word, index) => maskWord(word, prefix - index * 32))
}

function formatIpv4(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 255}.${(word >>> 8) & 255}.${word & 255}`
}

/** RFC 5952 text: lower-case hex, no leading zeros, the longest run of zero groups as `::`. */
function formatIpv6(words: readonly number[]): string {
  const groups = words.flatMap((word) => [word >>> 16, word & 0xffff])
  let bestStart = -1
  let bestLength = 1
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++
      continue
    }
    let end = start
    while (end < 8 && groups[end] === 0) end++
    if (end - start > bestLength) {
      bestStart = start
      bestLength = end - start
    }
    start = end
  }
  const hex = groups.map((group) => group.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

/**
 * Parses a CIDR (`203.0.113.0/24`, `2001:db8::/32`, or a bare address for a single host) into its
 * canonical network (host bits cleared). An IPv4-mapped IPv6 network becomes the IPv4 network it
 * covers. `null` when invalid.
 */
export function parseCidr(input: unknown): Network | null {
  if (typeof input !== 'string') return null
  const slash = input.indexOf('/')
  const address = parseIp(slash === -1 ? input : input.slice(0, slash))
  if (address === null) return null
  const wasMapped = address.version === 4 && input.slice(0, slash === -1 ? undefined : slash).includes(':')
  const max = address.version === 4 ? 32 : 128
  let prefix = max
  if (slash !== -1) {
    const bits = input.slice(slash + 1)
    if (!/^\d{1,3}$/.test(bits)) return null
    prefix = Number(bits)
    // A mapped network's prefix counts the 96 bits of ::ffff: in front of the IPv4 address.
    if (wasMapped) {
      if (prefix < 96) return null
      prefix -= 96
    }
    if (prefix > max) return null
  }
  const words = masked(address, prefix)
  const text = `${address.version === 4 ? formatIpv4(words[0] as number) : formatIpv6(words)}/${prefix}`
  return { version: address.version, words, prefix, text }
}

function contains(network: Network, address: IpAddress): boolean {
  if (network.version !== address.version) return false
  for (let index = 0; index < network.words.length; index++) {
    const bits = network.prefix - index * 32
    if (bits <= 0) return true
    if (maskWord(address.words[index] as number, bits) !== network.words[index]) return false
  }
  return true
}

/**
 * The networks a key may be used from, checked per request. Remembers the verdict for the last
 * few hundred addresses it saw, since a key's clients repeat.
 */
export class NetworkAllowlist {
  private readonly seen = new Map<string, boolean>()

  constructor(private readonly networks: readonly Network[]) {}

  /** True when `address` lies in one of the networks; an unparseable or absent address never does. */
  allows(address: string | undefined): boolean {
    if (address === undefined) return false
    const known = this.seen.get(address)
    if (known !== undefined) return known
    const parsed = parseIp(address)
    const verdict = parsed !== null && this.networks.some((network) => contains(network, parsed))
    if (this.seen.size >= 256) this.seen.clear()
    this.seen.set(address, verdict)
    return verdict
  }
}

/**
 * The network a client address is counted under: the address itself for IPv4, its `/ipv6Prefix`
 * for IPv6 (one subscriber usually holds a whole /64), canonical text. `null` when unparseable.
 */
export function clientNetwork(address: string, ipv6Prefix: number): string | null {
  const parsed = parseIp(address)
  if (parsed === null) return null
  if (parsed.version === 4) return formatIpv4(parsed.words[0] as number)
  return `${formatIpv6(masked(parsed, ipv6Prefix))}/${ipv6Prefix}`
}
