import { describe, expect, it } from 'vitest'

import {
  contains,
  formatAddress,
  formatCidr,
  merge,
  overlaps,
  parseAddress,
  parseCidr,
  parseCidrList,
  rangeOf,
  subtract,
  tryParseCidr,
} from './cidr.js'

const c = (text: string) => parseCidr(text)
const f = (list: ReturnType<typeof merge>) => list.map(formatCidr)

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['10.1.2.3/32', '10.1.2.3/32'],
    ['10.1.2.3/24', '10.1.2.0/24'],
    [' 192.168.0.0/16 ', '192.168.0.0/16'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd00::/8', 'fd00::/8'],
    ['fd00::1', 'fd00::1/128'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['::ffff:10.0.0.1', '::ffff:a00:1/128'],
  ])('%s → %s', (input, expected) => {
    expect(formatCidr(c(input))).toBe(expected)
  })

  it.each(['', '10.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/8', 'web', '10.0.0.256', 'fd00::/129'])(
    'rejects %j with a UsageError that names the option',
    (input) => {
      expect(tryParseCidr(input)).toBeUndefined()
      expect(() => parseCidr(input, '--excludeIps')).toThrow(
        /--excludeIps: ".*" is not an IP address or CIDR/,
      )
    },
  )

  it('parses comma-separated lists, skipping empty entries', () => {
    expect(f(parseCidrList('10.0.0.1, 10.1.0.0/16,,'))).toEqual(['10.0.0.1/32', '10.1.0.0/16'])
    expect(f(parseCidrList(['10.0.0.1', '10.2.0.0/16,10.3.0.0/16']))).toEqual([
      '10.0.0.1/32',
      '10.2.0.0/16',
      '10.3.0.0/16',
    ])
  })
})

describe('addresses', () => {
  it('round-trips IPv4 and IPv6', () => {
    for (const text of ['0.0.0.0', '255.255.255.255', '10.96.0.10']) {
      const a = parseAddress(text)!
      expect(formatAddress(a.family, a.value)).toBe(text)
    }
    for (const text of ['::', '::1', 'fd00::', '2001:db8::8:800:200c:417a', '1:2:3:4:5:6:7:8']) {
      const a = parseAddress(text)!
      expect(formatAddress(a.family, a.value)).toBe(text)
    }
  })

  it('gives the first and last address of a range', () => {
    const { first, last } = rangeOf(c('10.1.2.0/24'))
    expect(formatAddress(4, first)).toBe('10.1.2.0')
    expect(formatAddress(4, last)).toBe('10.1.2.255')
  })
})

describe('contains / overlaps', () => {
  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', true, true],
    ['10.1.0.0/16', '10.0.0.0/8', false, true],
    ['10.1.0.0/16', '10.1.0.0/16', true, true],
    ['10.1.0.0/16', '10.2.0.0/16', false, false],
    ['0.0.0.0/0', '10.2.0.7/32', true, true],
    ['10.0.0.0/8', 'fd00::/8', false, false],
  ])('%s vs %s: contains=%s overlaps=%s', (a, b, isContained, isOverlapping) => {
    expect(contains(c(a), c(b))).toBe(isContained)
    expect(overlaps(c(a), c(b))).toBe(isOverlapping)
  })
})

describe('subtract', () => {
  it('a /24 minus one /32 is the minimal 8 networks', () => {
    expect(f(subtract([c('10.244.1.0/24')], [c('10.244.1.7')]))).toEqual([
      '10.244.1.0/30',
      '10.244.1.4/31',
      '10.244.1.6/32',
      '10.244.1.8/29',
      '10.244.1.16/28',
      '10.244.1.32/27',
      '10.244.1.64/26',
      '10.244.1.128/25',
    ])
  })

  it.each([
    // [from, holes, expected]
    [['10.0.0.0/16'], ['10.0.0.0/16'], []],
    [['10.0.0.0/16'], ['10.0.0.0/8'], []],
    [['10.0.0.0/16'], ['10.1.0.0/16'], ['10.0.0.0/16']],
    [['10.0.0.0/16'], ['10.0.128.0/17'], ['10.0.0.0/17']],
    [['10.0.0.0/30'], ['10.0.0.1', '10.0.0.2'], ['10.0.0.0/32', '10.0.0.3/32']],
    [['10.0.0.0/8', 'fd00::/8'], ['fd00::/9'], ['10.0.0.0/8', 'fd80::/9']],
    [[], ['10.0.0.0/8'], []],
  ])('%j minus %j = %j', (from, holes, expected) => {
    expect(f(subtract(from.map(c), holes.map(c)))).toEqual(expected)
  })

  it('every address of the hole is gone and every other address stays', () => {
    const from = c('10.9.0.0/22')
    const hole = c('10.9.1.77')
    const result = subtract([from], [hole])
    const covered = (value: bigint) => result.some((r) => contains(r, { family: 4, base: value, prefix: 32 }))
    const { first, last } = rangeOf(from)
    for (let v = first; v <= last; v++) expect(covered(v)).toBe(v !== hole.base)
  })
})

describe('merge', () => {
  it.each([
    [['10.0.0.0/25', '10.0.0.128/25'], ['10.0.0.0/24']],
    [['10.0.0.0/24', '10.0.0.7'], ['10.0.0.0/24']],
    [['10.0.1.0/24', '10.0.0.0/24', '10.0.2.0/23'], ['10.0.0.0/22']],
    [
      ['10.0.1.0/24', '10.0.2.0/24'],
      ['10.0.1.0/24', '10.0.2.0/24'],
    ],
    [['10.0.0.0/8', '10.0.0.0/8'], ['10.0.0.0/8']],
    [
      ['fd00::/9', 'fd80::/9', '10.0.0.0/8'],
      ['10.0.0.0/8', 'fd00::/8'],
    ],
  ])('%j → %j', (input, expected) => {
    expect(f(merge(input.map(c)))).toEqual(expected)
  })

  it('undoes a subtract of nothing and re-joins the pieces of a subtraction', () => {
    const pieces = subtract([c('10.244.0.0/16')], [c('10.244.3.9')])
    expect(f(merge([...pieces, c('10.244.3.9')]))).toEqual(['10.244.0.0/16'])
  })
})
