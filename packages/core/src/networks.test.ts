import { isIP } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { clientNetwork, NetworkAllowlist, parseCidr, parseIp } from './networks.ts'

describe('parseIp', () => {
  it.each([
    ['203.0.113.7', 4],
    ['0.0.0.0', 4],
    ['255.255.255.255', 4],
    ['::1', 6],
    ['2001:db8::1', 6],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 6],
    ['[2001:db8::1]', 6],
    ['fe80::1%eth0', 6],
    ['::ffff:203.0.113.7', 4],
    ['::ffff:cb00:7107', 4],
    ['64:ff9b::203.0.113.7', 6],
  ])('reads %s as IPv%s', (text, version) => {
    expect(parseIp(text)?.version).toBe(version)
  })

  it.each([
    '',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.4 ',
    'a.b.c.d',
    '1::2::3',
    '12345::1',
    '1:2:3:4:5:6:7:8:9',
    'g::1',
    // A dotted IPv4 part is only valid as the last 32 bits.
    '1.2.3.4::',
    '1.2.3.4::1',
    '1:',
    ':1',
    'x'.repeat(100),
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull()
  })

  it('agrees with node:net on what is an address (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 40 })), (text) => {
        const ours = parseIp(text) !== null
        // node accepts leading zeros in IPv4-in-IPv6 forms we refuse; compare on what we accept.
        if (ours) expect(isIP(text)).not.toBe(0)
        else if (isIP(text) !== 0) expect(/(^|[.:])0\d/.test(text)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('parseCidr', () => {
  it.each([
    ['203.0.113.0/24', '203.0.113.0/24'],
    ['203.0.113.77/24', '203.0.113.0/24'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8:1:2::/32', '2001:db8::/32'],
    ['::/0', '::/0'],
    ['::ffff:203.0.113.0/120', '203.0.113.0/24'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
  ])('normalises %s to %s', (input, text) => {
    expect(parseCidr(input)?.text).toBe(text)
  })

  it.each([
    '203.0.113.0/33',
    '2001:db8::/129',
    '203.0.113.0/-1',
    '203.0.113.0/',
    '/24',
    'x/8',
    '::ffff:1.2.3.4/64',
    42,
  ])('refuses %j', (input) => {
    expect(parseCidr(input)).toBeNull()
  })
})

describe('NetworkAllowlist', () => {
  const list = new NetworkAllowlist(['203.0.113.0/24', '2001:db8::/32'].map((text) => parseCidr(text)!))

  it.each([
    ['203.0.113.7', true],
    ['203.0.114.7', false],
    ['::ffff:203.0.113.9', true],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    ['::1', false],
    ['not an address', false],
  ])('%s → %s', (address, allowed) => {
    expect(list.allows(address)).toBe(allowed)
    // The remembered verdict is the same.
    expect(list.allows(address)).toBe(allowed)
  })

  it('refuses a request without an address', () => {
    expect(list.allows(undefined)).toBe(false)
  })

  it('allows everything under /0', () => {
    const any = new NetworkAllowlist([parseCidr('0.0.0.0/0')!, parseCidr('::/0')!])
    expect(any.allows('198.51.100.1')).toBe(true)
    expect(any.allows('2001:db8::1')).toBe(true)
  })
})

describe('clientNetwork', () => {
  it('keeps an IPv4 address as it is, and maps IPv4-mapped IPv6 to it', () => {
    expect(clientNetwork('203.0.113.7', 64)).toBe('203.0.113.7')
    expect(clientNetwork('::ffff:203.0.113.7', 64)).toBe('203.0.113.7')
  })

  it('groups IPv6 addresses by their /64 (or the prefix given)', () => {
    expect(clientNetwork('2001:db8:1:2:aaaa::1', 64)).toBe('2001:db8:1:2::/64')
    expect(clientNetwork('2001:db8:1:2:bbbb::9', 64)).toBe('2001:db8:1:2::/64')
    expect(clientNetwork('2001:db8:1:2:bbbb::9', 48)).toBe('2001:db8:1::/48')
    expect(clientNetwork('2001:db8:1:2:bbbb::9', 128)).toBe('2001:db8:1:2:bbbb::9/128')
  })

  it('answers null for what is not an address', () => {
    expect(clientNetwork('unknown', 64)).toBeNull()
  })
})
