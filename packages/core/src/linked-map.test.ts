import { describe, expect, it } from 'vitest'
import { LinkedMap } from './linked-map.ts'

describe('LinkedMap', () => {
  it('keeps insertion order; set and touch move an entry to the back', () => {
    const map = new LinkedMap<string, number>()
    map.set('a', 1)
    map.set('b', 2)
    map.set('c', 3)
    map.set('a', 4)
    map.touch('b')
    expect([...map.entries()]).toEqual([
      ['c', 3],
      ['a', 4],
      ['b', 2],
    ])
    expect(map.oldestKey()).toBe('c')
    expect(map.oldestValue()).toBe(3)
  })

  it('shifts the oldest entry and deletes from anywhere', () => {
    const map = new LinkedMap<string, number>()
    for (const [index, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, index)
    expect(map.delete('b')).toBe(true)
    expect(map.delete('b')).toBe(false)
    expect(map.shift()).toBe('a')
    expect(map.delete('d')).toBe(true)
    expect([...map.entries()]).toEqual([['c', 2]])
    expect(map.shift()).toBe('c')
    expect(map.shift()).toBeUndefined()
    expect(map.size).toBe(0)
    map.set('e', 5)
    expect(map.get('e')).toBe(5)
    expect(map.has('e')).toBe(true)
    map.clear()
    expect(map.oldestKey()).toBeUndefined()
  })

  it('holds its bound through a million inserts, oldest out first', () => {
    const map = new LinkedMap<number, number>()
    for (let index = 0; index < 1_000_000; index++) {
      map.set(index, index)
      if (map.size > 10_000) map.shift()
    }
    expect(map.size).toBe(10_000)
    expect(map.oldestKey()).toBe(990_000)
  })
})
