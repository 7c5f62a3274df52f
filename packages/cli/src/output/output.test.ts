import { describe, expect, it } from 'vitest'
import { resample, sparkline } from './sparkline.ts'
import { renderFields, renderTable } from './table.ts'

describe('tables', () => {
  it('pads columns to their widest cell, right-aligns numbers, and leaves no trailing spaces', () => {
    const table = renderTable(
      [{ header: 'ID' }, { header: 'COUNT', align: 'right' }, { header: 'NOTE' }],
      [
        ['a', '5', ''],
        ['longer-id', '12345', 'x'],
      ],
    )
    expect(table).toBe('ID         COUNT  NOTE\na              5\nlonger-id  12345  x\n')
  })

  it('aligns the values of label/value lines', () => {
    expect(
      renderFields([
        ['id', 'abc'],
        ['rate limits', '100/1m'],
      ]),
    ).toBe('id           abc\nrate limits  100/1m\n')
  })
})

describe('sparklines', () => {
  it('draws zero as the lowest bar and the largest value as the full bar', () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe('▁▂▃▅█')
  })

  it('keeps a single request visible next to a large peak', () => {
    expect(sparkline([1, 1000])).toBe('▂█')
  })

  it('draws an empty series flat', () => {
    expect(sparkline([0, 0, 0])).toBe('▁▁▁')
  })

  it('sums groups of equally many buckets to fit the width, counting every value once', () => {
    const values = Array.from({ length: 168 }, (_, index) => index % 24)
    const points = resample(values, 60)
    expect(points).toHaveLength(56)
    expect(points.reduce((a, b) => a + b, 0)).toBe(values.reduce((a, b) => a + b, 0))
    expect(sparkline(values, 60)).toHaveLength(56)
  })
})
